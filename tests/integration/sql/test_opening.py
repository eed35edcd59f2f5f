"""Opening a ledger has no side effects when it fails: no file created, a foreign database
left byte for byte as it was, and every failure one of ours with a one-line message."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from backflush.adapters.sql import (
    SqlLedger,
    database_url,
    init_schema,
    make_engine,
    require_ledger,
)
from backflush.domain.errors import BackflushError, LedgerError, StorageError
from backflush.domain.events import Receipt
from tests.integration.sql.contract import set_up
from tests.support import PG_URL, reset_postgres


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message and "Traceback" not in message, message
    assert "sqlalchemy" not in message.lower() and "(Background on" not in message, message
    return message


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a folder and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('ACME')")
    conn.close()


# ---------------------------------------------------------------------------- URLs
def test_default_url_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKFLUSH_DB", raising=False)
    assert database_url() == "sqlite:///backflush.db"
    monkeypatch.setenv("BACKFLUSH_DB", "sqlite:///elsewhere.db")
    assert database_url() == "sqlite:///elsewhere.db"
    assert database_url("sqlite:///given.db") == "sqlite:///given.db"


@pytest.mark.parametrize("given", ["postgresql://u:pw@db.example:5433/books",
                                   "postgres://u:pw@db.example:5433/books",
                                   "postgresql+psycopg://u:pw@db.example:5433/books"])
def test_postgresql_urls_mean_psycopg(given: str) -> None:
    assert database_url(given) == "postgresql+psycopg://u:pw@db.example:5433/books"


@pytest.mark.parametrize("given", ["", "   "])
def test_an_empty_url_is_refused(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKFLUSH_DB", raising=False)
    for call in (database_url, make_engine, SqlLedger.open):
        with pytest.raises(LedgerError) as caught:
            call(given)
        assert "no database given" in one_line(caught.value)


@pytest.mark.parametrize("given", ["ledger.db", "not a url", "sqlite:", "://nothing",
                                   "mysql://u:secret@h/db", "postgresql://u:secret@h:port/db",
                                   "sqlite://", "sqlite:///:memory:"])
def test_a_malformed_url_is_refused_clearly(given: str) -> None:
    with pytest.raises(LedgerError) as caught:
        make_engine(given)
    message = one_line(caught.value)
    assert "secret" not in message
    assert "sqlite:///" in message  # (it says what a URL looks like)


# ---------------------------------------------------------------------------- SQLite files
def test_a_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "mistyped.db"
    for call in (make_engine, SqlLedger.open):
        with pytest.raises(LedgerError) as caught:
            call(f"sqlite:///{path}")
        assert one_line(caught.value) == f"no such database file: {path}"
    engine = make_engine(f"sqlite:///{path}", create=True)  # (init may create it: not yet)
    path.unlink(missing_ok=True)
    with pytest.raises(LedgerError):
        require_ledger(engine)
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_database_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    foreign_database(path)
    before = files(tmp_path)
    for attempt in (lambda: require_ledger(make_engine(f"sqlite:///{path}")),
                    lambda: SqlLedger.open(f"sqlite:///{path}"),
                    lambda: init_schema(make_engine(f"sqlite:///{path}", create=True)),
                    lambda: SqlLedger.create(f"sqlite:///{path}")):
        with pytest.raises(LedgerError) as caught:
            attempt()
        one_line(caught.value)
        assert files(tmp_path) == before  # no WAL switch, no table, no side file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_init_forced_on_a_foreign_database_adds_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    foreign_database(path)
    ledger = SqlLedger.create(f"sqlite:///{path}", force=True)
    try:
        with ledger.unit_of_work() as uow:
            set_up(uow)
            uow.commit()
        require_ledger(ledger.engine)
    finally:
        ledger.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM customers").fetchall() == [("ACME",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_an_empty_file_is_no_ledger_until_init(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(LedgerError) as caught:
        SqlLedger.open(f"sqlite:///{path}")
    assert "holds no backflush ledger: run `backflush init` first" in one_line(caught.value)
    assert path.read_bytes() == b""
    SqlLedger.create(f"sqlite:///{path}").close()
    SqlLedger.open(f"sqlite:///{path}").close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("groceries: milk, eggs\n" * 200)
    before = files(tmp_path)
    attempts: list[Callable[[], object]] = [lambda: SqlLedger.open(f"sqlite:///{path}"),
                                            lambda: SqlLedger.create(f"sqlite:///{path}")]
    for attempt in attempts:
        with pytest.raises(StorageError) as caught:
            attempt()
        assert "is not a SQLite database" in one_line(caught.value)
    assert files(tmp_path) == before


def test_a_ledger_is_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    SqlLedger.create(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    SqlLedger.open(f"sqlite:///{path}").close()  # a ledger: switched back on opening
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_connections_are_durable(sqlite_ledger: SqlLedger) -> None:
    """WAL, synchronous=FULL, foreign keys, a busy timeout: on every connection."""
    with sqlite_ledger.engine.connect() as conn:
        settings = {name: conn.execute(text(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
        conn.rollback()
    assert settings == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                        "busy_timeout": 10_000}


def test_a_schema_of_another_revision(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    SqlLedger.create(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    with pytest.raises(LedgerError) as caught:
        SqlLedger.open(f"sqlite:///{path}")
    assert "schema 9999" in one_line(caught.value) and "backflush init" in str(caught.value)


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file made read-only for everyone, root included (``chattr +i``)."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        if os.geteuid() == 0:
            pytest.skip("cannot make a file read-only for root here (chattr failed)")
        path.chmod(0o444)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        path.chmod(0o644)


def _post_one(ledger: SqlLedger) -> None:
    with ledger.unit_of_work() as uow:
        uow.events.append(Receipt(id="PO-9", date=date(2026, 11, 3), item="SEAT", qty=Decimal(1),
                                  unit_price=Decimal(5)), 1)
        uow.commit()


def test_a_read_only_file_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ledger = SqlLedger.create(f"sqlite:///{path}")
    with ledger.unit_of_work() as uow:
        set_up(uow)
        uow.commit()
    ledger.close()
    for side in tmp_path.iterdir():
        assert side == path, "a clean close leaves no WAL files"
    with immutable(path):
        ledger = SqlLedger.open(f"sqlite:///{path}")
        try:
            with pytest.raises(StorageError) as caught:
                _post_one(ledger)
            assert "read-only" in one_line(caught.value)
        finally:
            ledger.close()


def test_a_read_only_url_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    SqlLedger.create(f"sqlite:///{path}").close()
    ledger = SqlLedger.open(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with ledger.unit_of_work(read_only=True) as uow:
            assert not uow.master.ready()  # reading works
        with pytest.raises(StorageError) as caught:
            _post_one(ledger)
        assert "read-only" in one_line(caught.value)
    finally:
        ledger.close()


# ---------------------------------------------------------------------------- PostgreSQL
def test_postgresql_without_a_ledger(pg_engine: Engine) -> None:
    reset_postgres(pg_engine)
    with pytest.raises(LedgerError) as caught:
        require_ledger(pg_engine)
    assert "holds no backflush ledger" in one_line(caught.value)
    with pg_engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id integer PRIMARY KEY)"))  # (its schema)
    with pytest.raises(LedgerError):
        init_schema(pg_engine)
    reset_postgres(pg_engine)
    init_schema(pg_engine)
    require_ledger(pg_engine)


@pytest.mark.usefixtures("pg_engine")
def test_postgresql_bad_password_is_hidden() -> None:
    url = PG_URL.replace("backflush:backflush@", "backflush:Wr0ngPassw0rd@")
    engine = make_engine(url)
    try:
        with pytest.raises(StorageError) as caught:
            require_ledger(engine)
    finally:
        engine.dispose()
    message = one_line(caught.value)
    assert "Wr0ngPassw0rd" not in message and "***" in message
    assert "password authentication failed" in message


def test_postgresql_unreachable() -> None:
    engine = make_engine("postgresql://someone:s3cret@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StorageError) as caught:
            SqlLedger(engine).unit_of_work().__enter__()
    finally:
        engine.dispose()
    message = one_line(caught.value)
    assert "s3cret" not in message and message.startswith("cannot connect to ")


def test_errors_are_ours(tmp_path: Path) -> None:
    """Nothing the drivers raise leaves the adapter: it is a BackflushError."""
    with pytest.raises(BackflushError):
        SqlLedger.open(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with pytest.raises(StorageError) as caught:
        SqlLedger.create(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    assert "cannot open" in one_line(caught.value)
