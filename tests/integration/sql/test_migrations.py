"""The migrations create exactly the schema the adapter's metadata describes, on both
backends, and go down and up again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from backflush.adapters.sql import (
    SqlLedger,
    downgrade_schema,
    head_revision,
    init_schema,
    make_engine,
    require_ledger,
)
from backflush.adapters.sql.schema import LEDGER_TABLES, metadata
from tests.support import reset_postgres


def differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        found = compare_metadata(context, metadata)
        conn.rollback()
    return list(found)


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        conn.rollback()
    return names


def test_sqlite_schema_is_the_metadata(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}", create=True)
    try:
        assert init_schema(engine) == head_revision()
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_postgresql_schema_is_the_metadata(pg_engine: Engine) -> None:
    reset_postgres(pg_engine)
    init_schema(pg_engine)
    assert differences(pg_engine) == []


def _down_and_up(engine: Engine) -> None:
    init_schema(engine)
    assert set(LEDGER_TABLES) <= tables(engine)
    downgrade_schema(engine, "base")
    assert tables(engine) <= {"alembic_version"}  # every ledger table gone
    assert init_schema(engine) == head_revision()  # and up again
    require_ledger(engine)
    assert differences(engine) == []
    ledger = SqlLedger(engine)
    uow = ledger.unit_of_work()
    with uow:
        assert not uow.master.ready()


def test_sqlite_downgrade_and_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}", create=True)
    try:
        _down_and_up(engine)
    finally:
        engine.dispose()


def test_postgresql_downgrade_and_upgrade(pg_engine: Engine) -> None:
    reset_postgres(pg_engine)
    _down_and_up(pg_engine)


def test_init_is_idempotent(sqlite_ledger: SqlLedger) -> None:
    assert init_schema(sqlite_ledger.engine) == head_revision()
    assert init_schema(sqlite_ledger.engine) == head_revision()
    assert differences(sqlite_ledger.engine) == []


def test_migrations_import_no_application_code() -> None:
    folder = Path(__file__).parents[3] / "src/backflush/adapters/sql/migrations"
    for script in [folder / "env.py", *sorted((folder / "versions").glob("*.py"))]:
        assert "backflush" not in "\n".join(
            line for line in script.read_text().splitlines()
            if line.lstrip().startswith(("import", "from"))), script


def test_the_revision_a_ledger_is_checked_against_is_the_migrations_head() -> None:
    """Opening a ledger compares its revision with engine.HEAD (Alembic is not imported for
    that); HEAD must be the head of the migrations shipped."""
    from backflush.adapters.sql.engine import HEAD, head_revision

    assert head_revision() == HEAD
