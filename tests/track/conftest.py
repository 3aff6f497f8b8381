"""Tracking fixtures; ``engine`` runs a test on each event store of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from subjectline.deliver import RenderedEmail, Renderer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track import KeyRing, TokenSigner
from subjectline.track.store import mark_sent, register_sends


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(
        (("k2", b"second-secret-0123456789"), ("k1", b"first-secret-0123456789")),
        webhook_secret=b"webhook-secret-0123456789",
    )


@pytest.fixture
def signer(ring: KeyRing) -> TokenSigner:
    return TokenSigner(ring)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def register(signer: TokenSigner) -> Callable[..., list[RenderedEmail]]:
    """``register(engine, n)``: ``n`` rendered sends stored as delivered an hour ago."""

    def make(engine: Engine, n: int, sent_ago_s: float = 3600, campaign: str = "c1"):
        renderer = Renderer(signer)
        emails = [renderer.render(s) for s in synthetic_sends(n, campaign_id=campaign)]
        register_sends(engine, (e.to_send_record() for e in emails))
        at = datetime.now(UTC) - timedelta(seconds=sent_ago_s)
        mark_sent(engine, [e.send.send_id for e in emails], at=at)
        return emails

    return make
