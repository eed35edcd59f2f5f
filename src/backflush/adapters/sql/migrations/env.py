"""Alembic's environment for the ledger: migrations run on the connection backflush hands in.

No application code is imported (a migration must keep working when the application's
tables move on), so there is no ``target_metadata``: the test suite compares the migrated
schema with :data:`backflush.adapters.sql.schema.metadata` instead of autogenerating here.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - backflush always hands in a connection
    raise RuntimeError("run the ledger's migrations through backflush (`backflush init`)")

context.configure(connection=connection, target_metadata=None,
                  render_as_batch=connection.dialect.name == "sqlite",
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
