"""Fresh ledgers for the SQL adapter's tests: SQLite in a temporary file, PostgreSQL in the
test database (emptied between tests), and the memory adapter beside them for the contract.

PostgreSQL is skipped when it cannot be reached, except under ``CI=true``, where that is a
failure (start it with ``bash scripts/start-postgres.sh``; another server by
``BACKFLUSH_TEST_PG_URL``).
"""

from __future__ import annotations

import pytest

from backflush.adapters.memory import MemoryLedger, MemoryUnitOfWork
from backflush.adapters.sql import SqlLedger
from tests.integration.sql.contract import Store

SQL_BACKENDS = ["sqlite", "postgresql"]
ALL_BACKENDS = ["memory", *SQL_BACKENDS]
FIXTURES = {"sqlite": "sqlite_ledger", "postgresql": "pg_ledger"}


@pytest.fixture(params=SQL_BACKENDS)
def sql_ledger(request: pytest.FixtureRequest) -> SqlLedger:
    """A fresh ledger on each SQL backend."""
    return request.getfixturevalue(FIXTURES[request.param])  # type: ignore[no-any-return]


@pytest.fixture(params=ALL_BACKENDS)
def store(request: pytest.FixtureRequest) -> Store:
    """A fresh ledger on every backend, memory included (the contract tests)."""
    name = request.param
    if name == "memory":
        state = MemoryLedger()
        return Store(name, lambda: MemoryUnitOfWork(state))
    ledger: SqlLedger = request.getfixturevalue(FIXTURES[name])
    return Store(name, ledger.unit_of_work)
