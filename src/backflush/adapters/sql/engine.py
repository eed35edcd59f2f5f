"""Engines, the ledger schema's life cycle, and the translation of driver errors.

* :func:`database_url` turns what a user typed (``--db``, ``BACKFLUSH_DB``) into a URL, or a
  :class:`LedgerError` that says what is wrong with it.
* :func:`make_engine` opens nothing: it prepares connections. A SQLite file is opened with
  ``mode=rw`` (``rwc`` only with ``create=True``, for ``init``), so a mistyped path is an
  error rather than a new empty database; each connection gets ``synchronous=FULL``,
  ``foreign_keys=ON``, a busy timeout and the exact decimal aggregate; writers begin with
  ``BEGIN IMMEDIATE`` (the write lock up front: no lock upgrade, no deadlock), readers with a
  plain ``BEGIN``. Nothing here changes a file: WAL is switched on only once a file is known
  to be a ledger (:func:`init_schema`, :func:`require_ledger`).
* :func:`init_schema` creates or upgrades the schema, refusing a database holding someone
  else's tables unless forced; :func:`require_ledger` refuses anything but a ledger at the
  current revision.
* :func:`translate` is the one place a driver's error becomes one of ours:
  :class:`ConcurrencyError` (serialization failure, deadlock, lock timeout, SQLite busy),
  :class:`StorageError` (everything else the database refused, in one line, password
  hidden), :class:`LedgerError` (no ledger there).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any, NoReturn
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

from backflush.adapters.sql.codec import SQLITE_SUM, DecimalSum
from backflush.domain.errors import BackflushError, ConcurrencyError, LedgerError, StorageError

DEFAULT_URL = "sqlite:///backflush.db"
ENV_VAR = "BACKFLUSH_DB"
BUSY_TIMEOUT = 10.0  # seconds a SQLite writer waits for the write lock
CONNECT_TIMEOUT = 10  # seconds to reach a PostgreSQL server
READ_ONLY = "backflush_read_only"  # execution option: a reader's transaction
NO_BEGIN = "backflush_no_begin"  # execution option: statements outside any transaction
MARKER_TABLES = ("settings", "events")  # what, beside the version table, makes a ledger
EXAMPLES = "sqlite:///backflush.db or postgresql://user@host/database"

# SQLSTATEs of another transaction getting there first: serialization failure, deadlock,
# lock not available (lock_timeout / NOWAIT).
CONCURRENCY_STATES = frozenset({"40001", "40P01", "55P03"})
# SQLite's primary result codes worth a sentence of their own.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26


# ---------------------------------------------------------------------------- URLs
def _masked(text: str) -> str:
    """A URL as it may be shown: any password replaced."""
    return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", text)


def database_url(url: str | None = None) -> str:
    """The database to use: ``url``, else ``$BACKFLUSH_DB``, else ``sqlite:///backflush.db``.

    ``postgresql://`` and ``postgres://`` mean psycopg 3. A URL that is empty, malformed or
    of another database is a :class:`LedgerError` saying so.
    """
    if url is None:
        url = os.environ.get(ENV_VAR) or DEFAULT_URL
    text = url.strip()
    if not text:
        raise LedgerError(f"no database given: name one, e.g. {EXAMPLES}")
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix):]
    try:
        parsed = make_url(text)
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    except (ArgumentError, ValueError, TypeError):
        raise LedgerError(f"{_masked(text)!r} is not a database URL; give one such as "
                          f"{EXAMPLES}") from None
    if (backend, driver) not in (("sqlite", "pysqlite"), ("postgresql", "psycopg")):
        raise LedgerError(f"{_masked(text)!r}: backflush keeps ledgers in SQLite or "
                          f"PostgreSQL, e.g. {EXAMPLES}")
    if backend == "sqlite" and _sqlite_path(parsed) is None:
        raise LedgerError(f"{_masked(text)!r} names no file: a ledger is kept in a file, e.g. "
                          "sqlite:///backflush.db")
    return parsed.render_as_string(hide_password=False)


def _sqlite_path(url: URL) -> str | None:
    """The file a SQLite URL names (``sqlite:///file:PATH?mode=..&uri=true`` included)."""
    database = url.database or ""
    if database.startswith("file:"):
        database = database[len("file:"):].split("?", 1)[0]
    if not database or database == ":memory:" or database.startswith(":memory:"):
        return None
    return database


def where(engine: Engine) -> str:
    """The ledger's location as messages name it: a file's path, or the URL without its
    password."""
    if engine.dialect.name == "sqlite":
        return _sqlite_path(engine.url) or "(no file)"
    return engine.url.render_as_string(hide_password=True)


# ---------------------------------------------------------------------------- engines
def make_engine(url: str | None = None, *, create: bool = False,
                busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """An engine for the ledger at ``url`` (see :func:`database_url`). Connects to nothing.

    SQLite: the file must exist unless ``create`` (``backflush init``), so that opening a
    ledger never leaves a new file behind; ``busy_timeout`` is how long a writer waits for
    another's lock before :class:`ConcurrencyError`.
    """
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    path = _sqlite_path(parsed)
    assert path is not None  # (database_url refused a URL without a file)
    if not create and not os.path.isfile(path):
        raise LedgerError(f"no such database file: {path}")
    mode = "ro" if parsed.query.get("mode") == "ro" else "rwc" if create else "rw"
    uri = f"file:{quote(os.path.abspath(path))}?mode={mode}"

    def connect() -> sqlite3.Connection:
        # isolation_level=None: the driver begins nothing by itself; we issue BEGIN.
        return sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None,
                               check_same_thread=False)

    engine = create_engine(URL.create("sqlite", database=path), creator=connect)
    millis = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_aggregate(SQLITE_SUM, 1, DecimalSum)
        cursor = dbapi_connection.cursor()
        try:
            for pragma in ("synchronous=FULL", "foreign_keys=ON", f"busy_timeout={millis}",
                           "cache_size=-65536"):  # 64 MiB: the id index stays in memory
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(NO_BEGIN):
            return
        read_only = bool(options.get(READ_ONLY))
        info = conn.connection.info
        if info.get("query_only", False) != read_only:  # (a reader cannot write by mistake)
            conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            info["query_only"] = read_only
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


# ---------------------------------------------------------------------------- errors
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _psycopg_operational(exc: BaseException) -> bool:
    """A psycopg OperationalError without a SQLSTATE: the server was never reached (by
    class, so that a SQLite-only process does not import psycopg)."""
    return any(c.__name__ == "OperationalError" and c.__module__.startswith("psycopg")
               for c in type(exc).__mro__)


def translate(exc: BaseException, engine: Engine) -> BackflushError:
    """A driver's (or SQLAlchemy's) error as one of ours, with a one-line message."""
    place = where(engine)
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = _first_line(orig)
    password = engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    if isinstance(orig, sqlite3.Error):
        code = (getattr(orig, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return ConcurrencyError(f"{place} is busy: another writer holds it ({reason}); "
                                    "running again is safe")
        sentence = {
            SQLITE_READONLY: f"{place} is read-only: nothing can be written to it",
            SQLITE_NOTADB: f"{place} is not a SQLite database (or it is damaged)",
            SQLITE_CORRUPT: f"{place} is damaged: {reason}",
            SQLITE_FULL: f"{place}: the disk is full",
            SQLITE_CANTOPEN: f"cannot open {place}: {reason}",
            SQLITE_IOERR: f"{place}: the disk failed to read or write ({reason})",
        }.get(code)
        return StorageError(sentence or f"{place}: {reason}")
    state = getattr(orig, "sqlstate", None) or ""
    if state in CONCURRENCY_STATES:
        return ConcurrencyError(f"{place}: another transaction got there first ({reason}); "
                                "running again is safe")
    if state == "42P01":
        return LedgerError(f"{place} holds no backflush ledger: run `backflush init` first")
    if state == "28P01" or "password authentication failed" in reason:
        return StorageError(f"{place}: the server refused the login ({reason})")
    if state == "3D000":
        return StorageError(f"{place}: no such database on the server ({reason})")
    if state.startswith("08") or (not state and _psycopg_operational(orig)):
        return StorageError(f"cannot connect to {place}: {reason}")
    if state == "53100":
        return StorageError(f"{place}: the server's disk is full")
    if state == "25006":
        return StorageError(f"{place}: this transaction is read-only ({reason})")
    return StorageError(f"{place}: {reason}")


def is_unique_violation(exc: DBAPIError) -> bool:
    """Did a unique index or primary key refuse the row (and not another constraint)?"""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return "UNIQUE constraint failed" in str(orig)
    return getattr(orig, "sqlstate", None) == "23505"


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Run a block with driver errors translated (see :func:`translate`)."""
    try:
        yield
    except BackflushError:
        raise
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise translate(exc, engine) from None


# ---------------------------------------------------------------------------- schema
# Alembic is imported only by what migrates (init): opening a ledger checks the revision
# against HEAD, which a test holds equal to the migrations' head.
HEAD = "0005"


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location",
                        str(resources.files("backflush.adapters.sql") / "migrations"))
    return cfg


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The migrations' head revision (what ``init`` upgrades to; :data:`HEAD`)."""
    head: str | None = _scripts().get_current_head()
    assert head is not None, "the ledger has a baseline migration"
    return head


def _known(revision: str) -> bool:
    return any(rev.revision == revision for rev in _scripts().walk_revisions())


def _state(conn: Connection) -> tuple[str, str | None]:
    """What a database holds: ("empty", None), ("ledger", its revision) or ("foreign",
    None) for tables that are not a backflush ledger."""
    tables = set(inspect(conn).get_table_names())
    revision = None
    if "alembic_version" in tables:
        found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        revision = str(found) if found is not None else None
        if revision is None and tables == {"alembic_version"}:
            return "empty", None  # (a ledger taken down to base)
    if not tables:
        return "empty", None
    if revision is not None and all(t in tables for t in MARKER_TABLES):
        return "ledger", revision
    return "foreign", None


def _reader(engine: Engine) -> Connection:
    return engine.connect().execution_options(**{READ_ONLY: True})


def _use_wal(engine: Engine) -> None:
    """A ledger file runs in WAL mode (readers never block the writer). Persistent: done
    once per file, and only once it is known to be a ledger."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect().execution_options(**{NO_BEGIN: True}) as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if str(mode).lower() != "wal":
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")


def init_schema(engine: Engine, *, force: bool = False) -> str:
    """Create the ledger's schema, or upgrade it to the current revision; its revision.

    A database holding tables that are not a backflush ledger is refused (and left exactly
    as it was) unless ``force``: then the ledger's tables are added beside them.
    """
    with translated(engine):
        with _reader(engine) as conn:
            state, revision = _state(conn)
        head = head_revision()
        if state == "foreign" and not force:
            raise LedgerError(f"{where(engine)} already holds tables that are not a backflush "
                              "ledger: refusing to add a ledger beside them unless forced")
        if state == "ledger" and revision is not None and not _known(revision):
            raise LedgerError(f"{where(engine)} holds a ledger of schema {revision}, which "
                              "this backflush does not know (written by a newer version?)")
        if revision != head:
            from alembic import command

            cfg = _config()
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        _use_wal(engine)
    return head


def downgrade_schema(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (``base``: no ledger tables left)."""
    from alembic import command

    with translated(engine):
        cfg = _config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)


def require_ledger(engine: Engine) -> None:
    """Refuse to work on anything but a backflush ledger at the current schema revision.

    Reads only: a database that is not a ledger is left exactly as it was. A ledger file is
    then switched to WAL if it is not in it already.
    """
    place = where(engine)
    if engine.dialect.name == "sqlite" and not os.path.isfile(place):
        raise LedgerError(f"no such database file: {place}")
    with translated(engine):
        with _reader(engine) as conn:
            state, revision = _state(conn)
        if state != "ledger":
            raise LedgerError(f"{place} holds no backflush ledger: run `backflush init` first")
        head = HEAD
        if revision != head:
            if revision is not None and _known(revision):
                raise LedgerError(f"{place} holds a ledger of schema {revision}; this "
                                  f"backflush needs {head}: run `backflush init` to upgrade it")
            raise LedgerError(f"{place} holds a ledger of schema {revision}, which this "
                              "backflush does not know (written by a newer version?): run "
                              "`backflush init` with the version that wrote it")
        _use_wal(engine)


# ---------------------------------------------------------------------------- a transaction
class Tx:
    """One unit of work's connection, in its transaction: every statement of the stores
    goes through here, so every driver error is translated in one place."""

    __slots__ = ("conn", "engine", "pg")

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self.conn = conn
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def run(self, statement: Executable, params: Any = None, *,
            integrity: bool = False) -> CursorResult[Any]:
        """Execute (``params``: a dict, or a list of dicts for executemany). With
        ``integrity`` a constraint violation is left to the caller, as SQLAlchemy raised it."""
        with self.guard(integrity=integrity) as conn:
            return conn.execute(statement, params)

    def rows(self, statement: Executable, params: Any = None) -> Sequence[Any]:
        """Every row of a query (rows are named tuples; typed loosely, as they come),
        fetched inside the translation: SQLite finds some errors only while stepping."""
        try:
            return self.conn.execute(statement, params).all()
        except (SQLAlchemyError, sqlite3.Error):
            raise_translated(self.engine)

    def scalar(self, statement: Executable, params: Any = None) -> Any:
        try:
            return self.conn.execute(statement, params).scalar()
        except (SQLAlchemyError, sqlite3.Error):
            raise_translated(self.engine)

    def many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for many rows (executemany); nothing for none."""
        if rows:
            self.run(statement, list(rows))

    @contextmanager
    def guard(self, *, integrity: bool = False) -> Iterator[Connection]:
        """The connection for :mod:`.bulk`, errors translated as :meth:`run` translates
        them (``integrity``: a constraint violation left to the caller)."""
        try:
            yield self.conn
        except IntegrityError:
            if integrity:
                raise
            raise_translated(self.engine)
        except (SQLAlchemyError, sqlite3.Error):
            raise_translated(self.engine)


def upserts(table: Any, keys: Sequence[str], value: str) -> dict[str, Any]:
    """For each dialect, the statement that inserts a row of ``table`` or, when its ``keys``
    are taken, sets its ``value`` column (the running totals and settings)."""
    out = {}
    for dialect, module in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect)):
        ins = module.insert(table)
        out[dialect] = ins.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                                 set_={value: ins.excluded[value]})
    return out


def raise_translated(engine: Engine) -> NoReturn:
    """Raise the error being handled as one of ours (call inside an ``except``). A value
    the codec refused before anything reached the database (a float for a decimal) is a
    programming error and stays what it was."""
    exc = sys.exc_info()[1]
    assert exc is not None
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError) \
            and isinstance(exc.orig, TypeError | ValueError):
        raise exc.orig from None
    raise translate(exc, engine) from None
