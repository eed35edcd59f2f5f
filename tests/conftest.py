"""Fixtures shared by the three tiers: fresh ledgers on every backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backflush.bootstrap import Ledger, memory_ledger
from tests.support import Reader

PG_URL = os.environ.get("BACKFLUSH_TEST_PG_URL",
                        "postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test")
BACKENDS = ["memory", "sqlite", "postgresql"]


class Backend:
    """Fresh ledgers of one kind (memory, sqlite, postgresql)."""

    def __init__(self, name: str, make: Callable[[], Ledger]) -> None:
        self.name = name
        self._make = make
        self.made: list[Ledger] = []

    def ledger(self) -> Ledger:
        ledger = self._make()
        self.made.append(ledger)
        return ledger

    def close(self) -> None:
        for ledger in self.made:
            ledger.close()


_current: list[Backend] = [Backend("memory", memory_ledger)]


def current_backend() -> Backend:
    return _current[0]


def new_ledger() -> tuple[Ledger, Reader]:
    """A fresh ledger on the backend the test runs on, and a reader of it."""
    ledger = current_backend().ledger()
    return ledger, Reader(ledger.unit_of_work)


def _pg_or_skip() -> str:
    from backflush.bootstrap import reachable

    problem = reachable(PG_URL)
    if problem is not None:
        message = (f"PostgreSQL not reachable at {PG_URL} ({problem[:120]}); start one with "
                   "scripts/start-postgres.sh or set BACKFLUSH_TEST_PG_URL")
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL: " + message)
        pytest.skip(message)
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Run the test on fresh ledgers in memory, in SQLite and in PostgreSQL."""
    from backflush.bootstrap import fresh_postgres_ledger, fresh_sqlite_ledger

    name = request.param
    if name == "memory":
        made = Backend(name, memory_ledger)
    elif name == "sqlite":
        counter = iter(range(10**9))
        made = Backend(name, lambda: fresh_sqlite_ledger(tmp_path / f"l{next(counter)}.db"))
    else:
        url = _pg_or_skip()
        made = Backend(name, lambda: fresh_postgres_ledger(url))
    _current[0] = made
    yield name
    _current[0] = Backend("memory", memory_ledger)
    made.close()
