"""Test helpers shared by the tiers: a ledger on a backend, read through its stores."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from backflush.adapters.files import scenario_from_text
from backflush.adapters.sql import SqlLedger, head_revision, init_schema
from backflush.adapters.sql.schema import LEDGER_TABLES
from backflush.bootstrap import Ledger, memory_ledger
from backflush.domain.costs import CostVersion
from backflush.domain.journal import Alert, Finding, StockMove
from backflush.domain.numbers import fmt, fmt_qty
from backflush.domain.policy import Method
from backflush.service_layer.ports import StoredEntry
from backflush.service_layer.reports import variance_report
from backflush.service_layer.scenario import RunOutcome, run_scenario
from backflush.service_layer.unit_of_work import UnitOfWork

PG_SERVER = os.environ.get("BACKFLUSH_TEST_PG_URL",
                           "postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test")
SCHEMA = "backflush_tests"
PG_URL = make_url(PG_SERVER).update_query_dict(
    {"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


def reset_postgres(engine: Engine) -> None:
    """The tests' schema empty (no ledger, no version table)."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))


def truncate_postgres(engine: Engine) -> None:
    """The ledger's tables emptied (much faster than dropping and migrating again)."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(LEDGER_TABLES)} RESTART IDENTITY CASCADE"))


def fresh_postgres(engine: Engine) -> SqlLedger:
    """An empty ledger in the session's schema (every table emptied)."""
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
        conn.rollback()
    if version != head_revision() or not set(LEDGER_TABLES) <= tables:  # (a migration test)
        reset_postgres(engine)
        init_schema(engine)
    truncate_postgres(engine)
    return SqlLedger(engine)


class Reader:
    """What a test reads of a ledger, each call in a unit of work of its own (a fresh
    transaction on SQL backends, so it sees every commit)."""

    def __init__(self, make: Callable[[], UnitOfWork]) -> None:
        self.make = make

    @contextmanager
    def uow(self) -> Iterator[UnitOfWork]:
        with self.make() as uow:
            yield uow

    def _read(self, fn: Callable[[UnitOfWork], Any]) -> Any:
        with self.uow() as uow:
            return fn(uow)

    def balances(self) -> Mapping[str, Decimal]:
        return dict(self._read(lambda u: u.journal.balances()))

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        return self._read(lambda u: u.journal.balance(account, as_of))  # type: ignore[no-any-return]

    def family_balance(self, family: str, account: str) -> Decimal:
        return self._read(lambda u: u.journal.family_balance(family, account))  # type: ignore[no-any-return]

    def stock(self) -> Mapping[tuple[str, str], Decimal]:
        return dict(self._read(lambda u: u.stock.balances()))

    def on_hand(self, item: str, location: str) -> Decimal:
        return self._read(lambda u: u.stock.on_hand(item, location))  # type: ignore[no-any-return]

    def on_hand_total(self, item: str) -> Decimal:
        return self._read(lambda u: u.stock.on_hand_total(item))  # type: ignore[no-any-return]

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self._read(lambda u: u.stock.pending_at(item, location)))

    def pending_totals(self) -> Mapping[str, Decimal]:
        return dict(self._read(lambda u: u.stock.pending_totals()))

    def entries(self) -> list[StoredEntry]:
        return list(self._read(lambda u: list(u.journal.entries())))

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        return list(self._read(lambda u: u.journal.entries_of(event_id)))

    def moves(self) -> list[StockMove]:
        return list(self._read(lambda u: list(u.stock.moves())))

    def event_ids(self) -> set[str]:
        return set(self._read(lambda u: {s.event.id for s in u.events.all()}))

    def alerts(self) -> list[Alert]:
        return list(self._read(lambda u: u.events.alerts()))

    def findings(self) -> list[Finding]:
        return list(self._read(lambda u: u.events.findings()))

    @property
    def locked_through(self) -> date | None:
        return self._read(lambda u: u.master.locked_through())  # type: ignore[no-any-return]

    @property
    def costs(self) -> CostVersion:
        return self._read(lambda u: u.master.costs())  # type: ignore[no-any-return]

    def verify(self) -> list[str]:
        from backflush.service_layer import reports

        return list(self._read(reports.verify))


def net_lines(entries: Sequence[StoredEntry], event_id: str,
              type_: str | None = None) -> dict[str, Decimal]:
    """Net amount (debit positive) by account over the entries of one event."""
    out: dict[str, Decimal] = {}
    for stored in entries:
        e = stored.entry
        if e.event_id == event_id and (type_ is None or e.type == type_):
            for ln in e.lines:
                out[ln.account] = out.get(ln.account, Decimal(0)) + ln.net
    return {k: v for k, v in out.items() if v}


class Backend:
    """Fresh ledgers of one kind (memory, sqlite, postgresql), one after another."""

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


@contextmanager
def using(backend: Backend) -> Iterator[Backend]:
    """Tests in the block make their ledgers on ``backend``."""
    _current[0] = backend
    try:
        yield backend
    finally:
        _current[0] = Backend("memory", memory_ledger)
        backend.close()


def current_backend() -> Backend:
    return _current[0]


def new_ledger() -> tuple[Ledger, Reader]:
    """A fresh ledger on the backend the test runs on, and a reader of it."""
    ledger = current_backend().ledger()
    return ledger, Reader(ledger.unit_of_work)


class Run:
    """A scenario (YAML text) run on a fresh ledger of the current backend, with readers."""

    def __init__(self, text_: str, method: Method = Method.BACKFLUSH) -> None:
        self.scenario = scenario_from_text(textwrap.dedent(text_), "test.yaml", method=method)
        self.store, self.ledger = new_ledger()
        self.outcome: RunOutcome = run_scenario(self.store.unit_of_work(), self.scenario)

    def balance(self, account: str) -> Decimal:
        return self.ledger.balances().get(account, Decimal(0))

    def entry_lines(self, event_id: str, type_: str | None = None) -> dict[str, Decimal]:
        """Net amount (debit positive) by account over the entries of one event."""
        return net_lines(self.ledger.entries(), event_id, type_)

    def verify(self) -> list[str]:
        return self.ledger.verify()

    def stock(self) -> dict[tuple[str, str], str]:
        """Quantity on hand by item and location, as the reports write it."""
        return {k: fmt_qty(v) for k, v in self.ledger.stock().items() if v}

    def variances(self) -> dict[str, str]:
        """The variances measured by family, as the reports write them."""
        with self.ledger.uow() as uow:
            return {k: fmt(v, 2) for k, v in variance_report(uow).items()}
