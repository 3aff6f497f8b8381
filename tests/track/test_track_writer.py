"""Group commit: one transaction per batch, each request answered for its own event."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from subjectline.track.schema import events
from subjectline.track.store import Event
from subjectline.track.writer import EventWriter, SendLookup


def test_group_commit_answers_each_event(register, engine) -> None:
    emails = register(engine, 50)
    writer = EventWriter(engine)
    clicks = [Event(e.send.send_id, "click", link_index=0) for e in emails]
    # Every event twice, and one for a send the store does not know (a foreign-key error).
    batch = [*clicks, *clicks, Event("s-unknown", "click", link_index=0)]

    async def submit_all() -> list[object]:
        return await asyncio.gather(*(writer.record(e) for e in batch), return_exceptions=True)

    answers = asyncio.run(submit_all())
    writer.close()
    assert answers[:50] == [True] * 50  # the first of each is new ...
    assert answers[50:100] == [False] * 50  # ... the repeat a duplicate, even in one batch
    assert isinstance(answers[100], sa.exc.IntegrityError)  # and fails alone
    assert writer.batcher.batches < len(batch)  # the events shared transactions
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 50


def test_send_lookup_batches_and_caches(register, engine) -> None:
    emails = register(engine, 20)
    lookup = SendLookup(engine)
    ids = [e.send.send_id for e in emails] + ["s-unknown"]

    async def get_all() -> list[object]:
        return await asyncio.gather(*(lookup.get(i) for i in ids))

    found = asyncio.run(get_all())
    lookup.close()
    assert [s.send_id if s else None for s in found] == [*ids[:-1], None]  # type: ignore[attr-defined]
    assert lookup.batcher.batches < len(ids)
    assert lookup.cached(ids[0]) is not None and lookup.cached("s-unknown") is None


def test_an_idle_writer_gives_its_connection_back(register, engine) -> None:
    email = register(engine, 1)[0]
    writer = EventWriter(engine)
    writer.batcher.idle_s = 0.05
    assert asyncio.run(writer.record(Event(email.send.send_id, "open")))
    deadline = time.monotonic() + 5
    while writer.connection.held and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not writer.connection.held  # no idle connection kept open for hours
    assert asyncio.run(writer.record(Event(email.send.send_id, "click", link_index=0)))
    writer.close()


@pytest.mark.postgres
def test_writer_survives_a_dropped_connection(register, postgres_engine) -> None:
    """The server drops the writer's connection (a restart, a failover): the next batch
    goes out on a new one instead of failing."""
    first, second = register(postgres_engine, 2)
    writer = EventWriter(postgres_engine)
    assert asyncio.run(writer.record(Event(first.send.send_id, "open")))

    def backend_pid(conn: sa.Connection) -> int:
        with conn.begin():
            return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

    backend = writer.connection.run(backend_pid)
    with postgres_engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert asyncio.run(writer.record(Event(second.send.send_id, "open")))
    writer.close()
