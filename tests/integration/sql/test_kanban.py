"""The shop floor on every backend, posted event by event and in summary entries: the same
orders, signals and kanban lines (issue 16, item 1)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.service_layer import kanban
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
name: line side
policy: {{journal: {journal}}}
kanban:
  - {{item: LEG, location: line-1, container_qty: 10, lead_time_days: 2, safety: 0.25}}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00, backflush_from: line-1}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 500, unit_price: 5.00, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 1000, unit_price: 1.00, id: PO-2}}
  - {{type: release, id: WO-1, date: 2026-11-03, item: STOOL, qty: 40}}
  - {{type: release, id: WO-2, date: 2026-11-03, item: STOOL, qty: 25}}
  - {{type: transfer, id: TR-1, date: 2026-11-03, item: LEG, qty: 60, from: stores,
     to: line-1}}
  - {{type: signal, id: KB-1, date: 2026-11-03, item: LEG, location: line-1, qty: 50}}
  - {{type: signal, id: KB-2, date: 2026-11-03, item: LEG, location: line-1, qty: 30}}
  - {{type: completion, id: C1, date: 2026-11-04, item: STOOL, qty: 8, order: WO-1}}
  - {{type: completion, id: C2, date: 2026-11-04, item: STOOL, qty: 5, order: WO-2}}
  - {{type: completion, id: C3, date: 2026-11-05, item: STOOL, qty: 2, scrap_qty: 1,
     order: WO-1}}
  - {{type: completion, id: C4, date: 2026-11-05, item: STOOL, qty: 1}}
  - {{type: transfer, id: TR-2, date: 2026-11-05, item: LEG, qty: 60, from: stores,
     to: line-1}}
  - {{type: reversal, id: R1, date: 2026-11-06, of: C2}}
"""


def floor(uow: Any) -> dict[str, Any]:
    lines = kanban.kanban(uow)
    return {"lines": [(ln.item, ln.location, ln.on_hand, ln.demand, ln.open_signals,
                       ln.replenish_qty, ln.containers) for ln in lines],
            "orders": [uow.floor.order(o) for o in ("WO-1", "WO-2", "WO-3")],
            "totals": uow.floor.open_totals(), "signals": kanban.open_signals(uow),
            "at": list(uow.floor.signals_at("LEG", "line-1")),
            "changes": uow.floor.changes_of("C1"), "master": uow.master.master().kanban}


WANT = {
    # 120 legs moved in, (8 + 3 + 5 + 1) x 3 backflushed, C2's 15 given back: 84 on hand.
    # Demand (29 + 25) x 3; TR-1 came before the cards, TR-2 filled KB-1 and 10 of KB-2.
    "lines": [("LEG", "line-1", D(84), D(162), D(20), D(60), 6)],
    # WO-1: 40 - 8 - 3 = 29; WO-2: 25 - 5 + 5 (the reversal of C2) = 25.
    "orders": [("STOOL", D(29)), ("STOOL", D(25)), None],
    "totals": {"STOOL": D(54)}, "signals": {("LEG", "line-1"): D(20)},
    "at": [("KB-2", D(20))],
}


@pytest.mark.parametrize("journal", ["per_event", "summary"])
def test_the_floor_is_the_same_on_every_backend_and_journal(sql_ledger: Any,
                                                            journal: str) -> None:
    scenario = scenario_from_text(PLANT.format(journal=journal))
    outcome = run_scenario(sql_ledger.unit_of_work(), scenario)
    assert outcome.ok, outcome.errors
    with sql_ledger.unit_of_work(read_only=True) as uow:
        got = floor(uow)
    reference = memory_ledger()
    assert run_scenario(reference.unit_of_work(), scenario).ok
    with reference.unit_of_work(read_only=True) as uow:
        want = floor(uow)
    assert got == want
    assert {k: got[k] for k in WANT} == WANT
