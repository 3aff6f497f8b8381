from __future__ import annotations

import time
import uuid

import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from subjectline.track.ratelimit import MemoryBuckets, Pacer, RedisBuckets
from subjectline.track.schema import metadata
from subjectline.track.store import (
    SENDS_FRAME_SCHEMA,
    Event,
    migrate,
    record_event,
    sends_frame,
)


def test_migrations_create_exactly_the_schema(engine) -> None:
    migrate(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sends_frame_has_the_analyze_columns(register, engine) -> None:
    emails = register(engine, 3)
    first, second, _ = (e.send.send_id for e in emails)
    record_event(engine, Event(first, "open"))
    record_event(engine, Event(second, "click", link_index=2))
    record_event(engine, Event(second, "conversion", revenue=10.0, order_id="a"))
    record_event(engine, Event(second, "conversion", revenue=2.5, order_id="b"))
    frame = sends_frame(engine, "c1")
    assert frame.schema == SENDS_FRAME_SCHEMA
    rows = {r["user_id"]: r for r in frame.iter_rows(named=True)}
    by_send = {e.send.send_id: e.send.user_id for e in emails}
    assert rows[by_send[first]]["opened"] == 1 and rows[by_send[first]]["clicked"] == 0
    assert rows[by_send[second]]["opened"] == 1  # a click implies the email was opened
    assert rows[by_send[second]]["revenue"] == 12.5
    no_implied = sends_frame(engine, "c1", clicks_imply_open=False)
    assert no_implied["opened"].sum() == 1
    assert sends_frame(engine, "other-campaign").height == 0


def test_memory_buckets_refill() -> None:
    buckets = MemoryBuckets(rate=1000, burst=2)
    assert [buckets.allow("a") for _ in range(3)] == [True, True, False]
    assert buckets.allow("b")
    time.sleep(0.01)
    assert buckets.allow("a")


def test_redis_buckets_share_one_limit() -> None:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at 127.0.0.1:6379 is unreachable: {exc}")
    prefix = f"subjectline-test:{uuid.uuid4().hex}:"
    worker_a = RedisBuckets(url, rate=0.001, burst=3, prefix=prefix)
    worker_b = RedisBuckets(url, rate=0.001, burst=3, prefix=prefix)
    taken = [worker_a.allow("1.2.3.4"), worker_b.allow("1.2.3.4"), worker_a.allow("1.2.3.4")]
    assert taken == [True, True, True]
    assert not worker_b.allow("1.2.3.4")
    assert worker_b.allow("5.6.7.8")


def test_pacer_spaces_calls() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(rate=4, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
