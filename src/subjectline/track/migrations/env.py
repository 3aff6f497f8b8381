"""Alembic environment: run programmatically by ``subjectline.track.store.migrate``."""

from __future__ import annotations

from alembic import context

from subjectline.track.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through subjectline.track.store.migrate(engine)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
