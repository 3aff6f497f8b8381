"""Shared fixtures: a small synthetic marketplace, written once per session, and
migrated event stores (a SQLite file, a fresh PostgreSQL schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.data.synth import SynthConfig, write_marketplace
from subjectline.track.store import make_engine, migrate

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 500-user synthetic marketplace as CSV files (read-only for tests)."""
    out = tmp_path_factory.mktemp("market")
    write_marketplace(SynthConfig(users=500, items=300, seed=7), out, fmt="csv")
    return out


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated event store in a SQLite file."""
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
