"""Fixtures shared by the three tiers: fresh ledgers in memory, SQLite and PostgreSQL.

PostgreSQL is skipped when it cannot be reached, except under ``CI=true``, where that is a
failure (``make test`` starts it with ``scripts/start-postgres.sh``; another server by
``BACKFLUSH_TEST_PG_URL``). The tests use a schema of their own in the test database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from backflush.adapters.sql import SqlLedger, init_schema, make_engine
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import BackflushError
from tests.support import PG_SERVER, PG_URL, Backend, fresh_postgres, reset_postgres, using

BACKENDS = ["memory", "sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """The PostgreSQL test database with a ledger schema, for the whole session."""
    try:
        engine = make_engine(PG_URL)
        reset_postgres(engine)
        init_schema(engine)
    except (BackflushError, SQLAlchemyError) as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        shown = make_url(PG_SERVER).render_as_string(hide_password=True)
        message = (f"PostgreSQL not reachable at {shown} ({reason}); start it with "
                   "scripts/start-postgres.sh or set BACKFLUSH_TEST_PG_URL")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI needs PostgreSQL: " + message)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_ledger(pg_engine: Engine) -> Iterator[SqlLedger]:
    """A fresh, empty ledger in PostgreSQL."""
    ledger = fresh_postgres(pg_engine)
    yield ledger
    ledger.cache.clear()  # (the engine is the session's: not disposed here)


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[SqlLedger]:
    """A fresh, empty ledger in a SQLite file of its own."""
    ledger = SqlLedger.create(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield ledger
    ledger.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Run the test on fresh ledgers in memory, in SQLite and in PostgreSQL."""
    name = request.param
    if name == "memory":
        made = Backend(name, memory_ledger)
    elif name == "sqlite":
        counter = iter(range(10**9))
        made = Backend(name, lambda: SqlLedger.create(
            f"sqlite:///{tmp_path / f'ledger{next(counter)}.db'}"))
    else:
        engine = request.getfixturevalue("pg_engine")
        made = Backend(name, lambda: fresh_postgres(engine))
    with using(made):
        yield name
