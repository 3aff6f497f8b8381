"""The event store's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

The Alembic migrations in ``migrations/versions`` create exactly these tables; a test
checks that the migrated database matches this metadata.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per email: what was sent to whom, and the only URLs its links may redirect to.
sends = sa.Table(
    "sends",
    metadata,
    sa.Column("send_id", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(128), nullable=False, index=True),
    sa.Column("user_id", sa.String(128), nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("arm", sa.String(128), nullable=False),
    sa.Column("theme_key", sa.String(256), nullable=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("links", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Set when the email left us (SMTP accepted it, or the ESP batch was written).
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
)

# Tracked events. ``dedup_key`` makes a retried or repeated event a no-op:
# one human and one machine open per send, one click per link, one conversion per
# order, one unsubscribe per send.
events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("send_id", sa.String(64), sa.ForeignKey("sends.send_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("link_index", sa.Integer, nullable=True),
    sa.Column("dedup_key", sa.String(256), nullable=False, unique=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("is_prefetch", sa.Boolean, nullable=False, default=False),
    sa.Column("revenue", sa.Float, nullable=True),
    sa.Column("order_id", sa.String(128), nullable=True),
    sa.Column("user_agent", sa.String(512), nullable=True),
    sa.CheckConstraint(
        "kind IN ('open', 'click', 'conversion', 'unsubscribe')", name="ck_events_kind"
    ),
)

# Users who must not be mailed again (the next campaign reads this).
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("send_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per delivery attempt key: written as 'sending' before the SMTP transaction
# and 'sent' after it, so a rerun after a crash never sends the same email twice.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("idempotency_key", sa.String(128), primary_key=True),
    sa.Column("send_id", sa.String(64), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("message_id", sa.String(256), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name="ck_deliveries_status"),
)

EVENT_KINDS = ("open", "click", "conversion", "unsubscribe")
