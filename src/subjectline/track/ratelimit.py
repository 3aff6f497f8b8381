"""Token buckets: per-client limits for the tracking service, a send rate for SMTP.

``MemoryBuckets`` keeps buckets in process (one uvicorn worker); ``RedisBuckets`` keeps
them in Redis so that several workers or hosts share one limit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol


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
        self._client: Any = redis.Redis.from_url(url, socket_timeout=1.0)
        self._script = self._client.register_script(_REDIS_BUCKET)

    def allow(self, key: str) -> bool:
        return bool(
            self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        )


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
