"""SQL storage on SQLAlchemy 2 Core: SQLite by default, PostgreSQL in production."""
