from __future__ import annotations

import time

import pytest

from subjectline.errors import SubjectlineError
from subjectline.track.tokens import (
    InvalidToken,
    KeyRing,
    TokenSigner,
    sign_body,
    verify_body,
)


def test_round_trip_names_send_link_and_purpose(signer: TokenSigner) -> None:
    token = signer.sign("s123:with:colons", "c", 3)
    claims = signer.verify(token, "c")
    assert (claims.send_id, claims.link_index, claims.purpose) == ("s123:with:colons", 3, "c")


def test_forged_token_with_unknown_key_is_rejected(signer: TokenSigner) -> None:
    forger = TokenSigner(KeyRing((("k2", b"not-the-real-secret-123"),)))
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(forger.sign("s1", "c", 0), "c")
    with pytest.raises(InvalidToken, match="unknown key"):
        signer.verify(TokenSigner(KeyRing.generate("zz")).sign("s1", "c", 0), "c")


def test_tampered_payload_is_rejected(signer: TokenSigner) -> None:
    kid, payload, mac = signer.sign("s1", "c", 0).split(".")
    other_payload = signer.sign("s1", "c", 5).split(".")[1]
    with pytest.raises(InvalidToken):
        signer.verify(f"{kid}.{other_payload}.{mac}", "c")
    with pytest.raises(InvalidToken):
        signer.verify(f"{kid}.{payload}.{mac[:-2]}AA", "c")
    with pytest.raises(InvalidToken):
        signer.verify("garbage", "c")


def test_expired_token_is_rejected(signer: TokenSigner) -> None:
    token = signer.sign("s1", "o", expires_at=int(time.time()) - 1)
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, "o")


def test_token_for_another_purpose_is_rejected(signer: TokenSigner) -> None:
    with pytest.raises(InvalidToken, match="purpose"):
        signer.verify(signer.sign("s1", "o"), "u")


def test_rotation_old_keys_still_verify(ring: KeyRing) -> None:
    old = TokenSigner(KeyRing((ring.keys[1],)))  # k1 alone, before rotation
    token = old.sign("s1", "c", 1)
    rotated = TokenSigner(ring)  # k2 signs now, k1 still verifies
    assert rotated.verify(token, "c").send_id == "s1"
    assert rotated.sign("s1", "c", 1).startswith("k2.")
    retired = TokenSigner(KeyRing((ring.keys[0],)))
    with pytest.raises(InvalidToken):
        retired.verify(token, "c")


def test_key_ring_load_creates_private_file_and_env_overrides(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SUBJECTLINE_TRACKING_KEYS", raising=False)
    path = tmp_path / "keys.json"
    ring = KeyRing.load(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert KeyRing.load(path) == ring
    monkeypatch.setenv("SUBJECTLINE_TRACKING_KEYS", "a1:0123456789abcdef01,b2:0123456789abcdef02")
    assert KeyRing.load(path).active_kid == "a1"
    monkeypatch.setenv("SUBJECTLINE_TRACKING_KEYS", "a1:short")
    with pytest.raises(SubjectlineError):
        KeyRing.load(path)


def test_webhook_body_signature() -> None:
    secret, body, now = b"s" * 20, b'{"a": 1}', int(time.time())
    header = sign_body(secret, body, now)
    assert verify_body(secret, body, header)
    assert not verify_body(secret, body + b" ", header)
    assert not verify_body(b"x" * 20, body, header)
    assert not verify_body(secret, body, None)
    assert not verify_body(secret, body, sign_body(secret, body, now - 3600))  # replay
