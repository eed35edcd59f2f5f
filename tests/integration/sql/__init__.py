"""The SQL adapter on SQLite and PostgreSQL, against the memory adapter's behaviour."""
