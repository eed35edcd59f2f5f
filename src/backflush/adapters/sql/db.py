"""Engines and migrations: ``sqlite:///backflush.db`` by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
import sqlite3
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from backflush.domain.errors import BackflushError

DEFAULT_URL = "sqlite:///backflush.db"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("BACKFLUSH_DB") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for the URL; SQLite is set up for durable, one-writer-at-a-time commits."""
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        # The unit of work always ends its transaction: no reset ROLLBACK on check-in.
        engine = create_engine(url, connect_args={"timeout": 60}, pool_reset_on_return=None)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: the event id index stays hot
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock up front (no lock upgrade, no deadlock); readers
            # (execution option read_only) do not block anyone.
            read_only = conn.get_execution_options().get("read_only", False)
            sql = "BEGIN" if read_only else "BEGIN IMMEDIATE"
            try:  # on the driver: a statement's worth of SQLAlchemy less per transaction
                conn.connection.driver_connection.execute(sql)
            except sqlite3.Error as exc:
                raise DBAPIError.instance(sql, None, exc, sqlite3.Error,
                                          dialect=conn.dialect) from exc

        return engine
    # A transaction rolled back on a serialization failure makes psycopg log the aborted
    # pipeline of an executemany; the failure itself is handled (and retried) by us.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    return create_engine(url, pool_pre_ping=True)


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(resources.files("backflush.adapters.sql") / "migrations"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade (or, with a revision below the current one, downgrade) the schema."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        current = MigrationContext.configure(conn).get_current_revision()
        if revision == "base" or (current and revision != "head"
                                  and _is_below(revision, current)):
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)


def _is_below(target: str, current: str) -> bool:
    script = ScriptDirectory.from_config(_config())
    return any(rev.revision == target for rev in script.iterate_revisions(current, "base"))


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that is not at the current schema."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        if current is None:
            raise BackflushError(f"{where} holds no ledger: run `backflush init` first")
        raise BackflushError(f"{where} is at schema {current}, this backflush needs {head}: "
                             "run `backflush init` to upgrade it")
