"""Token buckets: per-client limits for the tracking service, a send rate for SMTP.

``MemoryBuckets`` keeps buckets in process (one uvicorn worker); ``RedisBuckets`` keeps
them in Redis so that several workers or hosts share one limit; ``SharedBuckets`` uses
Redis while it answers and in-process buckets while it does not, so that a Redis outage
loosens the limit instead of failing every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

log = logging.getLogger("subjectline.track")


class RateLimiter(Protocol):
    def allow(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        ...


class MemoryBuckets:
    """``rate`` tokens per second up to ``burst``, per key; at most ``max_keys`` tracked."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # forget the least recently seen client
            return allowed


# KEYS[1] bucket; ARGV rate, burst, now (seconds). Atomic inside Redis.
_REDIS_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return allowed
"""


class RedisBuckets:
    """The same buckets in Redis (e.g. ``redis://127.0.0.1:6379/0``), shared by workers."""

    def __init__(self, url: str, rate: float, burst: float, prefix: str = "subjectline:rl:"):
        import redis

        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        # Short timeouts: every tracked request waits on this, and a blackholed Redis
        # must cost a request half a second at most before the fallback takes over.
        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._script = self._client.register_script(_REDIS_BUCKET)

    def allow(self, key: str) -> bool:
        return bool(
            self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        )

    def ping(self) -> None:
        self._client.ping()


class Outage:
    """Tracks whether a dependency is down, logging one line when it goes and one when

    it comes back, never one per request.
    """

    def __init__(self, what: str, consequence: str):
        self.what = what
        self.consequence = consequence
        self.since: float | None = None  # wall clock, for /healthz
        self.reason = ""
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.time()
            self.reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        log.warning("%s unreachable (%s); %s", self.what, self.reason, self.consequence)

    def recovered(self) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is None:
                return
            lasted = time.time() - self.since
            self.since = None
        log.warning("%s reachable again after %.0f s", self.what, lasted)


class SharedBuckets:
    """Redis buckets that fall back to in-process ones while Redis is unreachable.

    During an outage each worker limits on its own (so N workers allow N times the
    rate) and one request at a time probes Redis again every ``retry_s`` seconds.
    """

    def __init__(self, shared: RedisBuckets, local: MemoryBuckets, retry_s: float = 5.0):
        self.shared = shared
        self.local = local
        self.retry_s = retry_s
        self.outage = Outage("rate-limit Redis", "limiting per process until it is back")
        self._next_probe = 0.0
        self._probing = threading.Lock()

    def _try(self, call: Any) -> tuple[bool, Any]:
        """(answered, result) of ``call`` on Redis, or (False, None) while it is down."""
        import redis

        if self.outage.down:
            if time.monotonic() < self._next_probe or not self._probing.acquire(blocking=False):
                return False, None
            try:
                return self._call(call, redis.RedisError)
            finally:
                self._probing.release()
        return self._call(call, redis.RedisError)

    def _call(self, call: Any, errors: type[Exception]) -> tuple[bool, Any]:
        try:
            result = call()
        except errors as exc:
            self._next_probe = time.monotonic() + self.retry_s
            self.outage.failed(exc)
            return False, None
        self.outage.recovered()
        return True, result

    def allow(self, key: str) -> bool:
        answered, allowed = self._try(lambda: self.shared.allow(key))
        return bool(allowed) if answered else self.local.allow(key)

    def health(self) -> dict[str, Any]:
        """Probes Redis (at most once per ``retry_s`` while it is down)."""
        self._try(self.shared.ping)
        if self.outage.down:
            return {"rate_limiter": "in-process", "redis": f"unreachable ({self.outage.reason})"}
        return {"rate_limiter": "redis"}


class Pacer:
    """Blocks so that callers proceed at most ``rate`` times per second (SMTP sending)."""

    def __init__(self, rate: float, clock: Any = time.monotonic, sleep: Any = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = clock()

    def wait(self) -> None:
        now = self._clock()
        if self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = max(self._next, now) + self.interval
