"""The ledger schema's migrations (Alembic scripts: ``backflush init`` runs them)."""
