"""Fixtures of the end-to-end tests: database URLs with no ledger yet, on SQLite and on
PostgreSQL (the session's test schema, emptied), for the ``backflush`` command to use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support import PG_URL, fresh_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for a new ledger: a SQLite file not created yet, or the PostgreSQL test
    schema with every table emptied (no ledger set up)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    engine: Engine = request.getfixturevalue("pg_engine")
    fresh_postgres(engine).cache.clear()
    yield PG_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file not created yet."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"
