"""Event-store fixtures: a migrated SQLite file, and a PostgreSQL schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.deliver import RenderedEmail, Renderer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track import KeyRing, TokenSigner
from subjectline.track.store import make_engine, mark_sent, migrate, register_sends

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(
        (("k2", b"second-secret-0123456789"), ("k1", b"first-secret-0123456789")),
        webhook_secret=b"webhook-secret-0123456789",
    )


@pytest.fixture
def signer(ring: KeyRing) -> TokenSigner:
    return TokenSigner(ring)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A fresh schema in the local PostgreSQL, dropped afterwards (parallel runs are safe)."""
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc.orig}")
    schema = f"sl_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, schema=schema)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
