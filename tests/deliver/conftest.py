from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.deliver import RenderedEmail, Renderer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track import KeyRing, TokenSigner
from subjectline.track.store import make_engine, migrate

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(KeyRing((("k1", b"deliver-test-secret-0123"),)))


@pytest.fixture
def renderer(signer: TokenSigner) -> Renderer:
    return Renderer(signer)


@pytest.fixture
def emails(renderer: Renderer) -> list[RenderedEmail]:
    return [renderer.render(s) for s in synthetic_sends(30, campaign_id="c-deliver")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_engine(request, tmp_path) -> Iterator[Engine]:
    """A migrated event store: a SQLite file, or a fresh schema in the local PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    schema = f"sl_deliver_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc.orig}")
    engine = make_engine(PG_URL, schema=schema)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
