"""Alembic environment: run with the connection the caller passes in."""

from __future__ import annotations

from alembic import context

from backflush.adapters.sql.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI always passes a connection
    raise RuntimeError("run migrations through backflush (backflush init)")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
