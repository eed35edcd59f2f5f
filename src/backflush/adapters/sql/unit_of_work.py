"""The SQL unit of work, and the ledger object the composition root makes once per database.

:class:`SqlLedger` holds the engine and what is worth keeping between transactions (the
master data, policy and costs of the current revision: :class:`~.master_store.MasterCache`).
Each :class:`SqlUnitOfWork` takes a connection of its own from the engine's pool for one
transaction, and gives it back at the end: no connection is ever shared between threads.

Transactions: on SQLite a writer begins ``BEGIN IMMEDIATE`` (it holds the write lock from the
start, so it never fails half-way to upgrade its lock) and a reader a plain ``BEGIN`` under
``PRAGMA query_only``; on PostgreSQL writers run SERIALIZABLE, readers REPEATABLE READ READ
ONLY. Either way a conflict with another transaction is a
:class:`~backflush.domain.errors.ConcurrencyError` after which nothing was kept and running
again is safe (:func:`~backflush.service_layer.unit_of_work.with_retries`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Connection, Engine

from backflush.adapters.sql.access import SqlAccess
from backflush.adapters.sql.engine import (
    BUSY_TIMEOUT,
    READ_ONLY,
    Tx,
    init_schema,
    make_engine,
    require_ledger,
    translated,
    where,
)
from backflush.adapters.sql.event_log import SqlEventLog
from backflush.adapters.sql.floor import SqlFloor
from backflush.adapters.sql.journal import SqlJournal
from backflush.adapters.sql.master_store import MasterCache, SqlMasterStore
from backflush.adapters.sql.stock import SqlStock
from backflush.domain.errors import BackflushError
from backflush.service_layer.unit_of_work import UnitOfWork


class _Kept(Protocol):
    """What a store keeps in memory for its transaction, saved and restored around a
    savepoint."""

    def save(self) -> object: ...

    def restore(self, saved: object) -> None: ...


class SqlLedger:
    """One SQL ledger as the application uses it: its engine, and the cache its units of
    work share. Make one per database (the composition root does) and a unit of work per
    transaction from it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.cache = MasterCache()
        self._writer: Engine
        self._reader: Engine
        if engine.dialect.name == "postgresql":
            self._writer = engine.execution_options(isolation_level="SERIALIZABLE")
            self._reader = engine.execution_options(isolation_level="REPEATABLE READ",
                                                    postgresql_readonly=True)
        else:
            self._writer = engine
            self._reader = engine.execution_options(**{READ_ONLY: True})

    @classmethod
    def open(cls, url: str | None = None, *, busy_timeout: float = BUSY_TIMEOUT) -> SqlLedger:
        """The ledger at ``url`` (see :func:`~.engine.database_url`), which must hold a
        ledger at the current schema (:func:`~.engine.require_ledger`). Creates nothing."""
        engine = make_engine(url, busy_timeout=busy_timeout)
        try:
            require_ledger(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @classmethod
    def create(cls, url: str | None = None, *, force: bool = False,
               busy_timeout: float = BUSY_TIMEOUT) -> SqlLedger:
        """``backflush init``: the ledger at ``url``, its schema created or upgraded (a
        SQLite file is created if need be; a database holding another application's tables
        is refused unless ``force``, see :func:`~.engine.init_schema`)."""
        engine = make_engine(url, create=True, busy_timeout=busy_timeout)
        try:
            init_schema(engine, force=force)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database's URL, its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def where(self) -> str:
        """The ledger's location as messages name it (a file's path, or the URL)."""
        return where(self.engine)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, read_only=read_only)

    def connect(self, *, read_only: bool = False) -> Connection:
        """A connection of the pool, set up for a writer's or a reader's transaction."""
        with translated(self.engine):
            return (self._reader if read_only else self._writer).connect()

    def close(self) -> None:
        """Close the pool's connections and forget the cache (the end of a command, or of a
        test). Units of work made afterwards open new connections."""
        self.engine.dispose()
        self.cache.clear()


class SqlUnitOfWork(UnitOfWork):
    """One database transaction over the five stores; rolls back unless committed."""

    master: SqlMasterStore
    events: SqlEventLog
    journal: SqlJournal
    stock: SqlStock
    floor: SqlFloor
    access: SqlAccess

    def __init__(self, ledger: SqlLedger, *, read_only: bool = False) -> None:
        self.ledger = ledger
        self.read_only = read_only
        self._conn: Connection | None = None

    def _begin(self) -> None:
        if self._conn is not None:
            raise BackflushError("this unit of work is in use: make one per transaction")
        conn = self.ledger.connect(read_only=self.read_only)
        try:
            with translated(self.ledger.engine):
                conn.begin()  # (SQLite: BEGIN IMMEDIATE waits for the write lock here)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        tx = Tx(conn, self.ledger.engine)
        self.master = SqlMasterStore(tx, self.ledger.cache)
        self.events = SqlEventLog(tx)
        self.journal = SqlJournal(tx)
        self.stock = SqlStock(tx)
        self.access = SqlAccess(tx)
        self.floor = SqlFloor(tx)

    def _stores(self) -> tuple[_Kept, ...]:
        return self.master, self.events, self.journal, self.stock, self.floor

    def _commit(self) -> None:
        if self._conn is None:
            raise BackflushError("commit outside the unit of work's block")
        with translated(self.ledger.engine):
            self.journal.flush()  # (balances are written once, at the end)
            self.stock.flush()
            self.floor.flush()
            self._conn.commit()
        self.master.committed()

    def rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction():
            try:
                conn.rollback()
            except Exception:  # the connection is gone: so is its transaction
                conn.invalidate()

    def _end(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                conn.invalidate()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction (SAVEPOINT): what the block wrote, and what the stores keep
        in memory of it, is undone if it raises."""
        if self._conn is None:
            raise BackflushError("a savepoint needs the unit of work's block")
        kept = [(store, store.save()) for store in self._stores()]
        with translated(self.ledger.engine):
            nested = self._conn.begin_nested()
        try:
            yield
        except BaseException:
            if nested.is_active:
                with translated(self.ledger.engine):
                    nested.rollback()
            for store, saved in kept:
                store.restore(saved)
            raise
        with translated(self.ledger.engine):
            nested.commit()
