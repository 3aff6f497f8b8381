"""Signed link tokens: HMAC-SHA256 over the send, the link and the expiry.

A token is ``{kid}.{payload}.{mac}``, where ``payload`` is the base64url of
``{purpose}:{link_index}:{expires_unix}:{send_id}`` and ``mac`` is the base64url of
HMAC-SHA256(key[kid], ``{kid}.{payload}``). ``purpose`` is ``o`` (open pixel), ``c``
(click) or ``u`` (unsubscribe), so a token minted for one use cannot be replayed for
another. Several keys verify at once (rotation): new tokens are signed with the first
key, tokens signed with any listed key still verify until they expire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from subjectline.errors import SubjectlineError

Purpose = Literal["o", "c", "u"]
PURPOSES: tuple[str, ...] = ("o", "c", "u")
KEYS_ENV = "SUBJECTLINE_TRACKING_KEYS"
WEBHOOK_SECRET_ENV = "SUBJECTLINE_WEBHOOK_SECRET"
DEFAULT_TTL_SECONDS = 90 * 24 * 3600
_MIN_SECRET_BYTES = 16
KEYS_FILE = "tracking_keys.json"


class InvalidToken(Exception):
    """The token is malformed, forged, tampered with, expired or for another purpose."""


@dataclass(frozen=True)
class TokenClaims:
    send_id: str
    purpose: Purpose
    link_index: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("bad encoding") from exc


@dataclass(frozen=True)
class KeyRing:
    """Named link secrets (the first one signs, all verify) and the webhook secret."""

    keys: tuple[tuple[str, bytes], ...]
    webhook_secret: bytes | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise SubjectlineError("a key ring needs at least one key")
        for kid, secret in self.keys:
            if not kid or not kid.isalnum():
                raise SubjectlineError(f"key id {kid!r} must be non-empty and alphanumeric")
            if len(secret) < _MIN_SECRET_BYTES:
                raise SubjectlineError(f"key {kid!r} is shorter than {_MIN_SECRET_BYTES} bytes")

    @property
    def active_kid(self) -> str:
        return self.keys[0][0]

    def secret(self, kid: str) -> bytes | None:
        return dict(self.keys).get(kid)

    @classmethod
    def from_spec(cls, spec: str) -> KeyRing:
        """``kid1:secret1,kid2:secret2`` (secrets as text); the first key signs."""
        pairs = []
        for part in spec.split(","):
            kid, sep, secret = part.strip().partition(":")
            if not sep:
                raise SubjectlineError(f"key spec entry {part!r} is not KID:SECRET")
            pairs.append((kid, secret.encode()))
        return cls(tuple(pairs))

    @classmethod
    def generate(cls, kid: str = "k1") -> KeyRing:
        return cls(((kid, secrets.token_bytes(32)),), webhook_secret=secrets.token_bytes(32))

    def to_json(self) -> str:
        data: dict[str, object] = {"keys": [{"kid": k, "secret": _b64(s)} for k, s in self.keys]}
        if self.webhook_secret is not None:
            data["webhook_secret"] = _b64(self.webhook_secret)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        hook = data.get("webhook_secret")
        return cls(
            tuple((k["kid"], _unb64(k["secret"])) for k in data["keys"]),
            webhook_secret=_unb64(hook) if hook else None,
        )

    @classmethod
    def load(cls, path: Path | None = None, create: bool = True) -> KeyRing:
        """Keys from ``$SUBJECTLINE_TRACKING_KEYS`` if set, else from ``path``.

        A missing file is created with one random key and webhook secret (mode 0600)
        when ``create``. ``$SUBJECTLINE_WEBHOOK_SECRET`` overrides the webhook secret.
        """
        ring = cls._load(path, create)
        hook = os.environ.get(WEBHOOK_SECRET_ENV)
        if hook:
            ring = cls(ring.keys, webhook_secret=hook.encode())
        return ring

    @classmethod
    def _load(cls, path: Path | None, create: bool) -> KeyRing:
        spec = os.environ.get(KEYS_ENV)
        if spec:
            return cls.from_spec(spec)
        if path is None:
            raise SubjectlineError(f"no tracking keys: set ${KEYS_ENV} or pass a keys file")
        if path.exists():
            return cls.from_json(path.read_text())
        if not create:
            raise SubjectlineError(f"tracking keys file {path} does not exist")
        ring = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(ring.to_json())
        return ring


class TokenSigner:
    """Mints and verifies link tokens with a :class:`KeyRing`."""

    def __init__(self, ring: KeyRing, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self.ring = ring
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _mac(secret: bytes, kid: str, payload: str) -> str:
        return _b64(hmac.new(secret, f"{kid}.{payload}".encode(), hashlib.sha256).digest())

    def sign(
        self,
        send_id: str,
        purpose: Purpose,
        link_index: int = 0,
        expires_at: int | None = None,
    ) -> str:
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}")
        if link_index < 0:
            raise ValueError("link_index must be >= 0")
        exp = int(time.time()) + self.ttl_seconds if expires_at is None else int(expires_at)
        kid = self.ring.active_kid
        secret = self.ring.secret(kid)
        assert secret is not None
        payload = _b64(f"{purpose}:{link_index}:{exp}:{send_id}".encode())
        return f"{kid}.{payload}.{self._mac(secret, kid, payload)}"

    def verify(self, token: str, purpose: Purpose, now: float | None = None) -> TokenClaims:
        """The claims of a genuine, unexpired token for ``purpose``; else InvalidToken."""
        if len(token) > 1024:
            raise InvalidToken("too long")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed")
        kid, payload, mac = parts
        secret = self.ring.secret(kid)
        if secret is None:
            raise InvalidToken("unknown key id")
        if not hmac.compare_digest(self._mac(secret, kid, payload), mac):
            raise InvalidToken("bad signature")
        try:
            got_purpose, index, exp, send_id = _unb64(payload).decode().split(":", 3)
            link_index, expires_at = int(index), int(exp)
        except ValueError as exc:
            raise InvalidToken("malformed payload") from exc
        if got_purpose != purpose:
            raise InvalidToken("token is for another purpose")
        if expires_at < (time.time() if now is None else now):
            raise InvalidToken("expired")
        return TokenClaims(send_id, purpose, link_index, expires_at)


def sign_body(secret: bytes, body: bytes, timestamp: int) -> str:
    """The webhook signature header value: ``t=TIMESTAMP,v1=HEX`` (HMAC over ``t.body``)."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_body(
    secret: bytes, body: bytes, header: str | None, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of now."""
    if not header:
        return False
    fields = dict(p.strip().partition("=")[::2] for p in header.split(","))
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign_body(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
