"""Group commit for the tracking service: many requests' events in one transaction.

A request hands its event to the :class:`EventWriter` and waits; one thread takes every
event queued by then (up to ``max_batch``), inserts them in one statement and commits,
then answers each waiting request. An event is still acknowledged only once it is
committed; the commit (an fsync on PostgreSQL) is shared by the whole batch instead of
paid per request. Looking up sends the cache does not hold is batched the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.track import store

# Errors that mean the database is down or overloaded (not that the request is bad).
DB_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)

T = TypeVar("T")
R = TypeVar("R")
_Done = Callable[[Any], None]
_STOP = object()


class Batcher(Generic[T, R]):
    """``await batcher.submit(item)``: ``process`` runs on a thread of its own over every

    item queued meanwhile (up to ``max_batch``) and returns one result or exception per
    item. Started on first use, so an app that never sees its lifespan (a test client)
    still works; ``close`` processes what is queued and stops the thread.
    """

    def __init__(
        self,
        process: Callable[[list[T]], Sequence[R | BaseException]],
        max_batch: int,
        name: str,
        on_idle: Callable[[], None] | None = None,
        idle_s: float = 5.0,
    ):
        self.process = process
        self.max_batch = max_batch
        self.name = name
        self.on_idle = on_idle  # called on the batcher's thread after idle_s without work
        self.idle_s = idle_s
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()

        def done(result: Any) -> None:
            # RuntimeError: the request's loop is gone (the app is shutting down).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, result)

        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        self._queue.put((item, done))
        return await future

    def close(self, timeout: float = 30.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                item = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                if self.on_idle is not None:
                    self.on_idle()
                item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            try:
                results: Sequence[Any] = self.process([item for item, _ in batch])
            except Exception as exc:  # answered as the request's error, logged by its handler
                results = [exc] * len(batch)
            self.batches += 1
            self.items += len(batch)
            for (_, done), result in zip(batch, results, strict=True):
                done(result)


class HeldConnection:
    """The connection a batcher's thread keeps, in autocommit mode on PostgreSQL: a batch

    is one statement and one round trip, without a pool checkout, a ping and a reset on
    return each time. A connection the server dropped (a restart) is replaced, and the
    batch retried once (safe: an insert that did commit is a no-op by its dedup key the
    second time); an idle batcher gives its connection back (``reset``).
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: sa.Connection | None = None

    def run(self, work: Callable[[sa.Connection], R]) -> R:
        for attempt in range(2):
            if self._conn is None:
                conn = self.engine.connect()
                if self.engine.dialect.name == "postgresql":
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                self._conn = conn
            try:
                return work(self._conn)
            except sa.exc.DBAPIError as exc:
                if exc.connection_invalidated or isinstance(exc, DB_UNAVAILABLE):
                    self.reset()
                    if attempt == 0 and exc.connection_invalidated:
                        continue
                raise
        raise AssertionError("unreachable")

    @property
    def held(self) -> bool:
        return self._conn is not None

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                conn.close()


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class EventWriter:
    """``await writer.record(event)``: True once committed if it was new, False if a

    duplicate (nothing changed).
    """

    def __init__(self, engine: Engine, max_batch: int = 1000):
        self.engine = engine
        self.connection = HeldConnection(engine)
        self.batcher: Batcher[dict[str, Any], bool] = Batcher(
            self._insert, max_batch, "event-writer", on_idle=self.connection.reset
        )

    async def record(self, event: store.Event, at: datetime | None = None) -> bool:
        return await self.batcher.submit(store.event_row(event, at or store.now_utc()))

    def close(self) -> None:
        self.batcher.close()
        self.connection.reset()

    def _insert(self, rows: list[dict[str, Any]]) -> list[bool | BaseException]:
        try:
            inserted = self.connection.run(lambda conn: store.insert_events(conn, rows))
        except DB_UNAVAILABLE:
            raise
        except sa.exc.DBAPIError:
            # One bad row (say, a send deleted meanwhile) must not fail the others.
            results: list[bool | BaseException] = []
            for row in rows:
                try:
                    one = self.connection.run(functools.partial(store.insert_events, rows=[row]))
                    results.append(bool(one))
                except sa.exc.DBAPIError as exc:
                    results.append(exc)
            return results
        first: set[str] = set()
        answers: list[bool | BaseException] = []
        for row in rows:
            key = row["dedup_key"]
            answers.append(key in inserted and key not in first)  # a repeat in the batch: False
            first.add(key)
        return answers


class SendLookup:
    """The sends the service has looked up, the most recent ``size`` kept in memory;

    misses are fetched in batches. A delivered send does not change (its links and
    ``sent_at`` are written once), so a hit needs no query. An entry with four links
    takes about 1.2 KB, so the default costs about 60 MB per worker.
    """

    def __init__(self, engine: Engine, size: int = 50_000, max_batch: int = 1000):
        self.engine = engine
        self.size = size
        self._items: OrderedDict[str, store.StoredSend] = OrderedDict()
        self._lock = threading.Lock()
        self.connection = HeldConnection(engine)
        self.batcher: Batcher[str, store.StoredSend | None] = Batcher(
            self._fetch, max_batch, "send-lookup", on_idle=self.connection.reset
        )

    def cached(self, send_id: str) -> store.StoredSend | None:
        with self._lock:
            sent = self._items.get(send_id)
            if sent is not None:
                self._items.move_to_end(send_id)
            return sent

    async def get(self, send_id: str) -> store.StoredSend | None:
        return self.cached(send_id) or await self.batcher.submit(send_id)

    def close(self) -> None:
        self.batcher.close()
        self.connection.reset()

    def _fetch(self, send_ids: list[str]) -> list[store.StoredSend | None]:
        found = self._remember(
            self.connection.run(lambda conn: store.get_sends(conn, set(send_ids)))
        )
        return [found.get(send_id) for send_id in send_ids]

    def _remember(self, found: dict[str, store.StoredSend]) -> dict[str, store.StoredSend]:
        with self._lock:
            for sent in found.values():
                if sent.sent_at is not None:  # not delivered yet: sent_at will change
                    self._items[sent.send_id] = sent
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found
