"""Initial event store: sends, events, suppressions, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sends",
        sa.Column("send_id", sa.String(64), primary_key=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("arm", sa.String(128), nullable=False),
        sa.Column("theme_key", sa.String(256), nullable=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
    )
    op.create_index("ix_sends_campaign_id", "sends", ["campaign_id"])
    op.create_index("ix_sends_user_id", "sends", ["user_id"])
    op.create_table(
        "events",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("send_id", sa.String(64), sa.ForeignKey("sends.send_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("link_index", sa.Integer, nullable=True),
        sa.Column("dedup_key", sa.String(256), nullable=False, unique=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("is_prefetch", sa.Boolean, nullable=False),
        sa.Column("revenue", sa.Float, nullable=True),
        sa.Column("order_id", sa.String(128), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.CheckConstraint(
            "kind IN ('open', 'click', 'conversion', 'unsubscribe')", name="ck_events_kind"
        ),
    )
    op.create_index("ix_events_send_id", "events", ["send_id"])
    op.create_table(
        "suppressions",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("send_id", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("idempotency_key", sa.String(128), primary_key=True),
        sa.Column("send_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(256), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name="ck_deliveries_status"),
    )
    op.create_index("ix_deliveries_send_id", "deliveries", ["send_id"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("suppressions")
    op.drop_index("ix_events_send_id", "events")
    op.drop_table("events")
    op.drop_table("sends")
