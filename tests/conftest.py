from __future__ import annotations

import contextlib
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.scenario_file import scenario_from_text
from backflush.adapters.sql.db import make_engine, migrate
from backflush.adapters.sql.ledger import SqlLedger, SqlUnitOfWork
from backflush.adapters.sql.schema import metadata
from backflush.domain.policy import Method
from backflush.entrypoints.output import run_json
from backflush.service_layer import reports
from backflush.service_layer.scenario import RunOutcome, run_scenario
from backflush.service_layer.unit_of_work import UnitOfWork

PG_URL = os.environ.get("BACKFLUSH_TEST_PG_URL",
                        "postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test")
BACKENDS = ["memory", "sqlite", "postgresql"]


class Backend:
    """Makes units of work on one fresh ledger of a kind (memory, sqlite, postgresql)."""

    def __init__(self, name: str, engine: Engine | None = None) -> None:
        self.name = name
        self.engine = engine
        self.memory = InMemoryUnitOfWork() if engine is None else None
        self._reader: Any = None

    def uow(self) -> UnitOfWork:
        if self.memory is not None:
            return self.memory
        assert self.engine is not None
        return SqlUnitOfWork(self.engine)

    def ledger(self) -> Any:
        """A ledger to read what was committed."""
        if self.memory is not None:
            return self.memory.ledger
        if self._reader is None:
            assert self.engine is not None
            self._reader = self.engine.connect().execution_options(read_only=True)
        self._reader.rollback()  # see the latest commits
        return SqlLedger(self._reader)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


_current: list[Callable[[], Backend]] = [lambda: Backend("memory")]


def new_backend() -> Backend:
    return _current[0]()


class Run:
    """A scenario run on a fresh ledger of the current backend, with readers."""

    def __init__(self, text_: str, method: Method = Method.BACKFLUSH) -> None:
        self.scenario = scenario_from_text(textwrap.dedent(text_), "test.yaml", method=method)
        self.backend = new_backend()
        self.outcome: RunOutcome = run_scenario(self.backend.uow(), self.scenario)

    @property
    def ledger(self) -> Any:
        return self.backend.ledger()

    @property
    def doc(self) -> dict[str, Any]:
        return run_json(self.ledger if self.outcome.ok else None, self.outcome.errors)

    def balance(self, account: str) -> Decimal:
        return self.ledger.balances().get(account, Decimal(0))

    def entry_lines(self, event_id: str, type_: str | None = None) -> dict[str, Decimal]:
        """Net amount (debit positive) by account over the entries of one event."""
        out: dict[str, Decimal] = {}
        for _, e in reports.journal(self.ledger):
            if e.event_id == event_id and (type_ is None or e.type == type_):
                for ln in e.lines:
                    out[ln.account] = out.get(ln.account, Decimal(0)) + ln.net
        return {k: v for k, v in out.items() if v}

    def verify(self) -> list[str]:
        return reports.verify(self.ledger)


def _pg_engine_or_skip() -> Engine:
    engine = make_engine(PG_URL)
    try:
        engine.connect().close()
    except OperationalError as exc:
        message = (f"PostgreSQL not reachable at {PG_URL} ({str(exc.orig).strip()[:120]}); "
                   "start one with scripts/start-postgres.sh or set BACKFLUSH_TEST_PG_URL")
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL: " + message)
        pytest.skip(message)
    return engine


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    engine = _pg_engine_or_skip()
    with contextlib.suppress(ProgrammingError):  # no tables yet
        truncate_all(engine)  # a downgrade refuses to drop summary-posted events
    migrate(engine, "base")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def truncate_all(engine: Engine) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path,
            sqlite_template: Path) -> Iterator[str]:
    """Run the test on a fresh ledger in memory, in SQLite and in PostgreSQL."""
    made: list[Backend] = []
    engines: list[Engine] = []
    name = request.param
    if name == "memory":
        def factory() -> Backend:
            made.append(Backend("memory"))
            return made[-1]
    elif name == "sqlite":
        def factory() -> Backend:
            path = tmp_path / f"ledger{len(made)}.db"
            shutil.copy(sqlite_template, path)
            engines.append(make_engine(f"sqlite:///{path}"))
            made.append(Backend("sqlite", engines[-1]))
            return made[-1]
    else:
        pg = request.getfixturevalue("pg_engine")

        def factory() -> Backend:
            for b in made:
                b.close()
            truncate_all(pg)
            made.append(Backend("postgresql", pg))
            return made[-1]
    _current[0] = factory
    yield name
    _current[0] = lambda: Backend("memory")
    for b in made:
        b.close()
    for e in engines:
        e.dispose()


D = Decimal


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no schema): a new SQLite file, or PostgreSQL reset."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    engine = request.getfixturevalue("pg_engine")
    truncate_all(engine)  # a downgrade refuses to drop summary-posted events
    migrate(engine, "base")
    yield PG_URL
    migrate(engine)  # leave the schema in place for the other PostgreSQL tests
    truncate_all(engine)
