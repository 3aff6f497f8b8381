"""The event store: engine set-up, migrations and every read and write the service does.

SQLite (a file in the workspace) is the embedded default; PostgreSQL is used through a
URL. Both get the same tables from the same Alembic migrations. Every write commits
before the caller answers, so an acknowledged event is durable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from subjectline.errors import SubjectlineError
from subjectline.track.schema import deliveries, events, sends, suppressions
from subjectline.workspace import DEFAULT_WORKSPACE

DB_ENV = "SUBJECTLINE_EVENTS_DB"
SQLITE_FILE = "events.sqlite"
SENDS_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "arm": pl.String(),
    "opened": pl.Int8(),
    "clicked": pl.Int8(),
    "converted": pl.Int8(),
    "unsubscribed": pl.Int8(),
    "revenue": pl.Float64(),
    "sent_at": pl.Datetime("us", "UTC"),
}


def default_url(workspace: Path | str = DEFAULT_WORKSPACE) -> str:
    """``$SUBJECTLINE_EVENTS_DB`` if set, else a SQLite file in the workspace."""
    return os.environ.get(DB_ENV) or f"sqlite:///{Path(workspace) / SQLITE_FILE}"


def make_engine(url: str | None = None, schema: str | None = None, **kwargs: Any) -> Engine:
    """An engine for the event store. ``schema`` (PostgreSQL only) sets the search path,

    so that separate runs can keep separate tables in one database.
    """
    url = url or default_url()
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        if not schema.replace("_", "").isalnum():
            raise SubjectlineError(f"schema name {schema!r} must be alphanumeric")
        connect_args["options"] = f"-csearch_path={schema}"
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    # libpq waits forever on a blackholed host; a request should fail over in seconds.
    connect_args.setdefault("connect_timeout", 5)
    return sa.create_engine(parsed, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the tracking service read while it writes; NORMAL sync is durable in WAL
    # against process crashes, which is what "committed before the response" needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` with the packaged Alembic migrations."""
    config = Config()
    config.set_main_option("script_location", "subjectline.track:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_store(url: str | None = None, workspace: Path | str = DEFAULT_WORKSPACE) -> Engine:
    """An engine on ``url`` (default: the workspace's SQLite file), migrated to head.

    A URL that does not parse, names a missing driver or a database that does not answer
    is a ``SubjectlineError`` of one line (the CLI prints it and exits 1).
    """
    url = url or default_url(workspace)
    try:
        engine = make_engine(url)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        raise SubjectlineError(f"bad event store URL {_redacted(url)}: {_first_line(exc)}") from exc
    try:
        migrate(engine)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise SubjectlineError(
            f"cannot open event store {where}: {_first_line(exc.orig or exc)}"
        ) from exc
    return engine


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _redacted(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(url.split("@")[-1])  # unparsable: at least keep a password out


def now_utc() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        with bind.begin():  # on an AUTOCOMMIT connection: nothing sent to the server
            yield bind
    else:
        with bind.begin() as conn:
            yield conn


def _insert_ignore(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; the number of rows actually inserted."""
    if not rows:
        return 0
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).on_conflict_do_nothing()
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing()
    else:
        raise SubjectlineError(f"event store supports sqlite and postgresql, not {name}")
    if len(rows) == 1:
        # RETURNING tells reliably whether the row went in (rowcount does not, once
        # SQLAlchemy adds its own RETURNING for the primary key).
        returning = stmt.values(rows[0]).returning(*table.primary_key.columns)
        return 0 if conn.execute(returning).first() is None else 1
    conn.execute(stmt, rows)
    return -1


# ----------------------------------------------------------------------------- sends


@dataclass(frozen=True)
class SendRecord:
    """What the store keeps of one email: enough to attribute events and redirect."""

    send_id: str
    campaign_id: str
    user_id: str
    email: str
    arm: str
    subject: str
    links: tuple[str, ...]
    theme_key: str | None = None


@dataclass(frozen=True)
class StoredSend:
    send_id: str
    campaign_id: str
    user_id: str
    email: str
    links: tuple[str, ...]
    sent_at: datetime | None


def register_sends(engine: Engine, records: Iterable[SendRecord], batch: int = 5_000) -> None:
    """Insert sends that are not stored yet; existing ones (a rerun) are left untouched."""
    created = now_utc()
    buffer: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for record in records:
            row = {**record.__dict__, "links": list(record.links), "created_at": created}
            buffer.append(row)
            if len(buffer) >= batch:
                _insert_ignore(conn, sends, buffer)
                buffer = []
        _insert_ignore(conn, sends, buffer)


def mark_sent(engine: Engine, send_ids: Sequence[str], at: datetime | None = None) -> None:
    """Record when emails left us (first time only)."""
    at = at or now_utc()
    with engine.begin() as conn:
        for start in range(0, len(send_ids), 5_000):
            chunk = list(send_ids[start : start + 5_000])
            conn.execute(
                sends.update()
                .where(sends.c.send_id.in_(chunk), sends.c.sent_at.is_(None))
                .values(sent_at=at)
            )


def get_send(engine: Engine, send_id: str) -> StoredSend | None:
    return get_sends(engine, [send_id]).get(send_id)


def get_sends(bind: Engine | Connection, send_ids: Iterable[str]) -> dict[str, StoredSend]:
    """The stored sends among ``send_ids``, by id (one query)."""
    wanted = list(send_ids)
    if not wanted:
        return {}
    query = sa.select(
        sends.c.send_id,
        sends.c.campaign_id,
        sends.c.user_id,
        sends.c.email,
        sends.c.links,
        sends.c.sent_at,
    ).where(sends.c.send_id.in_(wanted))
    with _transaction(bind) as conn:
        rows = conn.execute(query).all()
    return {
        row.send_id: StoredSend(
            row.send_id,
            row.campaign_id,
            row.user_id,
            row.email,
            tuple(row.links),
            _as_utc(row.sent_at),
        )
        for row in rows
    }


# ---------------------------------------------------------------------------- events

EventKind = Literal["open", "click", "conversion", "unsubscribe"]


@dataclass(frozen=True)
class Event:
    send_id: str
    kind: EventKind
    link_index: int | None = None
    is_prefetch: bool = False
    revenue: float | None = None
    order_id: str | None = None
    user_agent: str | None = None

    @property
    def dedup_key(self) -> str:
        """What makes two events the same event (see the events table)."""
        if self.kind == "open":
            return f"open:{self.send_id}:{'machine' if self.is_prefetch else 'human'}"
        if self.kind == "click":
            # A scanner's click must not take the place of the person's click that follows.
            machine = ":machine" if self.is_prefetch else ""
            return f"click:{self.send_id}:{self.link_index}{machine}"
        if self.kind == "conversion":
            return f"conversion:{self.send_id}:{self.order_id}"
        return f"unsubscribe:{self.send_id}"


def event_row(event: Event, at: datetime) -> dict[str, Any]:
    return {
        "send_id": event.send_id,
        "kind": event.kind,
        "link_index": event.link_index,
        "dedup_key": event.dedup_key,
        "occurred_at": at,
        "is_prefetch": event.is_prefetch,
        "revenue": event.revenue,
        "order_id": event.order_id,
        "user_agent": (event.user_agent or "")[:512] or None,
    }


# Columns of ``event_row`` in the order of the PostgreSQL array insert below.
_EVENT_COLUMNS = (
    ("send_id", "varchar"),
    ("kind", "varchar"),
    ("link_index", "integer"),
    ("dedup_key", "varchar"),
    ("occurred_at", "timestamptz"),
    ("is_prefetch", "boolean"),
    ("revenue", "float8"),
    ("order_id", "varchar"),
    ("user_agent", "varchar"),
)
# One statement and one parameter per column, whatever the batch size: PostgreSQL
# unpacks the arrays, so the batch costs one round trip and little client CPU.
_PG_INSERT_EVENTS = (
    f"INSERT INTO events ({', '.join(name for name, _ in _EVENT_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'%s::{kind}[]' for _, kind in _EVENT_COLUMNS)}) "
    "ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key"
)


def insert_events(bind: Engine | Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert ``event_row`` rows in one transaction; the dedup keys that were new.

    On a PostgreSQL connection in autocommit mode the batch is one statement, so one
    round trip, and committed when it returns.
    """
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["dedup_key"], row)
    if not unique:
        return set()
    batch = list(unique.values())
    with _transaction(bind) as conn:
        if conn.dialect.name == "postgresql":
            arrays = tuple([row[name] for row in batch] for name, _ in _EVENT_COLUMNS)
            return {r[0] for r in conn.exec_driver_sql(_PG_INSERT_EVENTS, arrays)}
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        # executemany with RETURNING: SQLAlchemy sends multi-row INSERTs of one cached
        # statement, and RETURNING names exactly the rows that went in.
        stmt = sqlite_insert(events).on_conflict_do_nothing().returning(events.c.dedup_key)
        return {r[0] for r in conn.execute(stmt, batch)}


def record_event(engine: Engine, event: Event, at: datetime | None = None) -> bool:
    """Store and commit one event; False when it was a duplicate (nothing changed)."""
    with engine.begin() as conn:
        return _insert_ignore(conn, events, [event_row(event, at or now_utc())]) == 1


def record_unsubscribe(
    engine: Engine, send: StoredSend, user_agent: str | None = None, at: datetime | None = None
) -> bool:
    """The unsubscribe event and the suppression, in one transaction."""
    at = at or now_utc()
    event = Event(send.send_id, "unsubscribe", user_agent=user_agent)
    with engine.begin() as conn:
        inserted = _insert_ignore(conn, events, [event_row(event, at)]) == 1
        _insert_ignore(
            conn,
            suppressions,
            [
                {
                    "user_id": send.user_id,
                    "email": send.email,
                    "reason": "unsubscribe",
                    "send_id": send.send_id,
                    "created_at": at,
                }
            ],
        )
    return inserted


def add_suppressions(
    engine: Engine, user_ids: Iterable[str], reason: str = "manual", email: str | None = None
) -> None:
    """Suppress users by hand (complaints, bounces, a mailto unsubscribe)."""
    at = now_utc()
    rows = [
        {"user_id": u, "email": email, "reason": reason, "send_id": None, "created_at": at}
        for u in user_ids
    ]
    with engine.begin() as conn:
        _insert_ignore(conn, suppressions, rows)


def suppressed_user_ids(engine: Engine) -> set[str]:
    """Every user a campaign must leave out."""
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.select(suppressions.c.user_id))}


# ------------------------------------------------------------------------ deliveries

ClaimResult = Literal["claimed", "already_sent", "in_doubt"]


def workspace_suppressions(workspace: Path | str, url: str | None = None) -> set[str]:
    """User ids suppressed in the event store at ``url`` (default: :func:`default_url`);
    none, and nothing created, when that is a SQLite file that does not exist yet."""
    url = url or default_url(workspace)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return set()
    return suppressed_user_ids(open_store(url))


def claim_delivery(engine: Engine, key: str, send_id: str, channel: str) -> ClaimResult:
    """Reserve ``key`` before sending, committed, so that a rerun can tell what happened.

    ``claimed``: nobody sent it (new, or a previous attempt failed for good);
    ``already_sent``: a previous run confirmed it; ``in_doubt``: a previous run claimed it
    and never confirmed (it crashed mid-send); it is not sent again automatically.
    """
    at = now_utc()
    row = {
        "idempotency_key": key,
        "send_id": send_id,
        "channel": channel,
        "status": "sending",
        "attempts": 0,
        "updated_at": at,
    }
    with engine.begin() as conn:
        if _insert_ignore(conn, deliveries, [row]) == 1:
            return "claimed"
        retried = conn.execute(
            deliveries.update()
            .where(deliveries.c.idempotency_key == key, deliveries.c.status == "failed")
            .values(status="sending", updated_at=at, error=None)
        ).rowcount
        if retried == 1:
            return "claimed"
        status = conn.execute(
            sa.select(deliveries.c.status).where(deliveries.c.idempotency_key == key)
        ).scalar_one()
    return "already_sent" if status == "sent" else "in_doubt"


def finish_delivery(
    engine: Engine,
    key: str,
    status: Literal["sent", "failed"],
    attempts: int,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome of a claimed delivery; a sent one also stamps ``sends.sent_at``."""
    at = now_utc()
    with engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.idempotency_key == key)
            .values(
                status=status,
                attempts=deliveries.c.attempts + attempts,
                message_id=message_id,
                error=error,
                updated_at=at,
            )
        )
        if status == "sent":
            send_id = (
                sa.select(deliveries.c.send_id)
                .where(deliveries.c.idempotency_key == key)
                .scalar_subquery()
            )
            conn.execute(
                sends.update()
                .where(sends.c.send_id == send_id, sends.c.sent_at.is_(None))
                .values(sent_at=at)
            )


def release_in_doubt(engine: Engine, keys: Iterable[str]) -> int:
    """Mark in-doubt deliveries as failed after checking the mail server's logs by hand."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                deliveries.update()
                .where(deliveries.c.idempotency_key.in_(list(keys)))
                .where(deliveries.c.status == "sending")
                .values(status="failed", error="released by operator", updated_at=now_utc())
            ).rowcount
        )


def delivery_status(engine: Engine, campaign_id: str | None = None) -> dict[str, int]:
    query = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
    if campaign_id is not None:
        query = query.join(sends, sends.c.send_id == deliveries.c.send_id).where(
            sends.c.campaign_id == campaign_id
        )
    with engine.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


# -------------------------------------------------------------------------- outcomes


def sends_frame(
    engine: Engine,
    campaign_id: str,
    count_prefetch_opens: bool = False,
    clicks_imply_open: bool = True,
    count_machine_clicks: bool = False,
) -> pl.DataFrame:
    """One row per delivered send with its outcomes, as ``experiment analyze`` reads them.

    Columns: user_id, arm, opened, clicked, converted, unsubscribed (0/1), revenue (sum of
    the send's conversions), sent_at. Machine opens (privacy proxies, prefetch) do not
    count unless ``count_prefetch_opens``, machine clicks (link scanners) unless
    ``count_machine_clicks``; a click counts as an open when ``clicks_imply_open`` (the
    image may have been blocked).
    """

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((condition, 1), else_=0))

    open_condition = events.c.kind == "open"
    if not count_prefetch_opens:
        open_condition = sa.and_(open_condition, events.c.is_prefetch.is_(False))
    click_condition = events.c.kind == "click"
    if not count_machine_clicks:
        click_condition = sa.and_(click_condition, events.c.is_prefetch.is_(False))
    if clicks_imply_open:
        open_condition = sa.or_(open_condition, click_condition)
    query = (
        sa.select(
            sends.c.user_id,
            sends.c.arm,
            flag(open_condition).label("opened"),
            flag(click_condition).label("clicked"),
            flag(events.c.kind == "conversion").label("converted"),
            flag(events.c.kind == "unsubscribe").label("unsubscribed"),
            sa.func.coalesce(
                sa.func.sum(sa.case((events.c.kind == "conversion", events.c.revenue), else_=0.0)),
                0.0,
            ).label("revenue"),
            sends.c.sent_at,
        )
        .select_from(sends.outerjoin(events, events.c.send_id == sends.c.send_id))
        .where(sends.c.campaign_id == campaign_id, sends.c.sent_at.is_not(None))
        .group_by(sends.c.send_id, sends.c.user_id, sends.c.arm, sends.c.sent_at)
        .order_by(sends.c.send_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(SENDS_FRAME_SCHEMA), orient="row")
    sent_at = pl.col("sent_at")
    dtype = frame.schema["sent_at"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        sent_at = sent_at.dt.convert_time_zone("UTC")
    elif isinstance(dtype, pl.Datetime):
        sent_at = sent_at.dt.replace_time_zone("UTC")  # SQLite: naive, stored as UTC
    return frame.with_columns(sent_at).cast(SENDS_FRAME_SCHEMA)  # type: ignore[arg-type]
