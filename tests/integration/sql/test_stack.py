"""The whole stack on each backend: the ledger set up, events posted by the service layer
(one by one, and summarised in bulk), and every report equal to the memory adapter's."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backflush.adapters.memory import MemoryLedger, MemoryUnitOfWork
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Receipt,
    Reversal,
    Sale,
)
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Journal, NegativeStock, Policy, Stage
from backflush.domain.routing import Operation, WorkCenter
from backflush.service_layer import reports
from backflush.service_layer.batch import Flows
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger
from backflush.service_layer.unit_of_work import UnitOfWork
from tests.integration.sql.conftest import Store

D = Decimal
START = date(2026, 11, 1)


def stool() -> MasterData:
    return MasterData(
        {"SEAT": Item("SEAT", standard_cost=D("5.00")), "LEG": Item("LEG", standard_cost=D("1.00")),
         "STOOL": Item("STOOL", conversion_cost=D("6.00"), made=True)},
        Boms.of([BomVersion("STOOL", 1, date(2000, 1, 1),
                            (BomLine("SEAT", D(1)), BomLine("LEG", D(3))))]))


STOOL_EVENTS = [
    Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT", qty=D(10000), unit_price=D("5.10")),
    Receipt(id="PO-2", date=date(2026, 11, 2), item="LEG", qty=D(30000), unit_price=D("1.00")),
    ConversionIncurred(id="CV-1", date=date(2026, 11, 30), amount=D(61500)),
    Completion(id="WO-1", date=date(2026, 11, 20), item="STOOL", qty=D(9800)),
    Sale(id="SO-1", date=date(2026, 11, 25), item="STOOL", qty=D(9500), unit_price=D(25)),
    Close(id="close-2026-11", date=date(2026, 11, 30), period="2026-11"),
]


def plant(seed: int = 1) -> MasterData:
    """A small plant: finished items with 8-line BOMs over parts, subassemblies and a
    phantom, on routings."""
    rng = random.Random(seed)
    items = {f"P{i:03d}": Item(f"P{i:03d}", standard_cost=D(rng.randint(5, 5000)) / 100)
             for i in range(40)}
    parts = sorted(items)
    centers = {"ASSY": WorkCenter("ASSY", D("38.50"), D("61.25")),
               "SUB": WorkCenter("SUB", conversion_rate=D("75.80"))}
    versions, routings = [], {}
    for n in range(4):
        code = f"S{n}"
        items[code] = Item(code, made=True, phantom=n == 0)
        versions.append(BomVersion(code, 1, date(2000, 1, 1), tuple(
            BomLine(p, D(rng.choice((1, 2, 3))), D(rng.choice(("0", "0.02"))))
            for p in rng.sample(parts, 3))))
        if n:
            routings[code] = (Operation(10, "SUB", D(rng.randint(5, 30)) / 100),)
    for n in range(6):
        code = f"F{n}"
        items[code] = Item(code, made=True)
        comps = [(p, D(rng.choice((1, 2, 4)))) for p in rng.sample(parts, 6)]
        comps += [("S0", D(1)), (f"S{1 + n % 3}", D(2))]
        versions.append(BomVersion(code, 1, date(2000, 1, 1), tuple(
            BomLine(c, q, D(rng.choice(("0", "0.01")))) for c, q in comps)))
        versions.append(BomVersion(code, 2, date(2026, 11, 15), tuple(
            BomLine(c, q + 1) for c, q in comps)))
        routings[code] = (Operation(10, "ASSY", D(rng.randint(10, 90)) / 100, D(2), D(50)),)
    return MasterData(items, Boms.of(versions), centers, routings)


def plant_events(master: MasterData, count: int) -> list[Any]:
    """Stock for everything, then a run of completions and sales in bulk (flows), then one
    of each kind that changes what summaries did."""
    rng = random.Random(7)
    purchased = [c for c, i in sorted(master.items.items()) if not i.made]
    stocked = [f"S{n}" for n in range(1, 4)]
    out: list[Any] = [Receipt(id=f"STOCK-{c}", date=START, item=c, qty=D(10**7),
                              unit_price=(master.items[c].standard_cost or D(0)) + D("0.01"))
                      for c in purchased]
    out += [Completion(id=f"STOCK-{c}", date=START, item=c, qty=D(10**5)) for c in stocked]
    templates: list[Event] = [
        Completion(id="#", date=START + timedelta(days=d), item=f"F{f}", qty=D(q))
        for d in range(1, 28, 3) for f in range(6) for q in (1, 3)]
    templates += [Sale(id="#", date=START + timedelta(days=d), item=f"F{f}", qty=D(1),
                       unit_price=D("99.95")) for d in range(2, 28, 5) for f in range(6)]
    index = sorted(range(count), key=lambda i: i % len(templates))
    rows = [rng.randrange(len(templates)) for _ in index]
    rows.sort(key=lambda t: templates[t].date)
    out.append(Flows([f"WO-{i:06d}" for i in range(count)], rows, templates))
    out += [
        Reversal(id="REV-1", date=date(2026, 11, 28), of="WO-000005"),
        Count(id="CT-1", date=date(2026, 11, 28), item="P001", qty=D(10**7 - 40)),
        CostChange(id="CC-1", date=date(2026, 11, 29), item="P002", standard_cost=D("1.23")),
        Completion(id="WO-LAST", date=date(2026, 11, 29), item="F1", qty=D(2),
                   hours=(("ASSY", D("1.5")),)),
        ConversionIncurred(id="CV-1", date=date(2026, 11, 30), amount=D("12345.67")),
        Close(id="close-2026-11", date=date(2026, 11, 30), period="2026-11"),
    ]
    return out


def views(uow: UnitOfWork, keys: Sequence[str]) -> dict[str, Any]:
    """What the reports show, as comparable data (entries without their derivations: the
    journal's listing leaves them out; ``explain`` shows them)."""
    with uow:
        return {
            "trial balance": reports.trial_balance(uow),
            "verify": reports.verify(uow),
            "journal": [(n, dataclasses.replace(e, derivations=()))
                        for n, e in reports.journal(uow)],
            "stock": reports.stock_report(uow),
            "variances": reports.variance_report(uow),
            "explain": {k: reports.explain(uow, k) for k in keys},
            "alerts": uow.events.alerts(),
            "findings": uow.events.findings(),
            "events": [(s.seq, s.event, s.summary, s.reversed_by) for s in uow.events.all()],
        }


def run(make: Callable[[], UnitOfWork], master: MasterData, policy: Policy,
        events: Sequence[Any], keys: Sequence[str]) -> tuple[list[Any], dict[str, Any]]:
    set_up_ledger(make(), master, policy, START)
    results = [post_events(make(), events), post_events(make(), events)]  # again: duplicates
    return results, views(make(), keys)


def _check(store: Store, master: MasterData, policy: Policy, events: Sequence[Any],
           keys: Sequence[str]) -> dict[str, Any]:
    state = MemoryLedger()
    want = run(lambda: MemoryUnitOfWork(state), master, policy, events, keys)
    got = run(store.uow, master, policy, events, keys)
    assert got[0] == want[0]
    for name in want[1]:
        assert got[1][name] == want[1][name], f"{name} differs on {store.name}"
    assert got[1]["verify"] == []
    return got[1]


@pytest.mark.parametrize("triggers", [{Stage.PURCHASE, Stage.COMPLETION}, {Stage.PURCHASE}])
def test_the_stool_month(store: Store, triggers: set[Stage]) -> None:
    _check(store, stool(), Policy(triggers=frozenset(triggers)), STOOL_EVENTS,
           ["WO-1", "SO-1", "#3", "close-2026-11"])


@pytest.mark.parametrize("negative", [NegativeStock.ALLOW, NegativeStock.QUEUE])
def test_a_plant_month_in_summaries(store: Store, negative: NegativeStock) -> None:
    master = plant()
    policy = Policy(journal=Journal.SUMMARY, negative_stock=negative)
    # (under queue the run is posted event by event: fewer of them)
    events: list[Event | Flows] = plant_events(master, 3000 if negative is NegativeStock.ALLOW
                                               else 1200)
    seen = _check(store, master, policy, events,
                  ["WO-000005", "WO-000006", "WO-001199", "WO-LAST", "REV-1", "#40", "#45"])
    assert any(summary for _, _, summary, _ in seen["events"])  # (summaries were written)
