from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.scenario_file import scenario_from_text
from backflush.domain.policy import Method
from backflush.entrypoints.output import run_json
from backflush.service_layer import reports
from backflush.service_layer.scenario import RunOutcome, run_scenario


class Run:
    """A scenario run in memory, with helpers to read what it posted."""

    def __init__(self, text: str, method: Method = Method.BACKFLUSH) -> None:
        self.scenario = scenario_from_text(textwrap.dedent(text), "test.yaml", method=method)
        self.uow = InMemoryUnitOfWork()
        self.outcome: RunOutcome = run_scenario(self.uow, self.scenario)

    @property
    def ledger(self):  # type: ignore[no-untyped-def]
        return self.uow.ledger

    @property
    def doc(self) -> dict:  # type: ignore[type-arg]
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


@pytest.fixture
def run():  # type: ignore[no-untyped-def]
    return Run


D = Decimal
