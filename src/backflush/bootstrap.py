"""The composition root: where a ledger's storage is chosen and put together.

Everything else receives a :class:`Ledger` (or one of its units of work) and never picks an
adapter itself: the CLI, the tests and library users call :func:`memory_ledger`,
:func:`open_ledger` or :func:`create_ledger`.
"""

from __future__ import annotations

from typing import Protocol

from backflush.service_layer.unit_of_work import UnitOfWork


class Ledger(Protocol):
    """A ledger's storage: it makes units of work (one transaction each)."""

    @property
    def url(self) -> str: ...

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork: ...

    def close(self) -> None: ...


class _InMemory:
    """A ledger in memory: every unit of work on it sees the same state."""

    url = "memory:"

    def __init__(self) -> None:
        from backflush.adapters.memory import MemoryLedger

        self.state = MemoryLedger()

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        from backflush.adapters.memory import MemoryUnitOfWork

        return MemoryUnitOfWork(self.state)

    def close(self) -> None:
        pass


def memory_ledger() -> Ledger:
    """A new, empty ledger in memory (``backflush run`` and tests)."""
    return _InMemory()


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger kept in the database at ``url`` (default: ``$BACKFLUSH_DB``, else
    ``sqlite:///backflush.db``). It must hold a ledger: nothing is created or changed here
    (``LedgerError`` or ``StorageError`` otherwise)."""
    from backflush.adapters.sql import SqlLedger

    return SqlLedger.open(url)


def create_ledger(url: str | None = None, *, force: bool = False) -> Ledger:
    """``backflush init``: the database at ``url`` with a ledger's schema, created or
    upgraded (a SQLite file is created if need be). A database that holds another
    application's tables is refused unless ``force``."""
    from backflush.adapters.sql import SqlLedger

    return SqlLedger.create(url, force=force)
