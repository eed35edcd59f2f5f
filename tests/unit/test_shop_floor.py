"""Negative stock per item and backflushing from a line-side location (issue 16, item 2),
the pending queue that clears when stock arrives, and `queue` and `bom_accuracy` in the
--json document.

Legs are backflushed from the line-side supermarket line-1 and queue when short there; seats
are backflushed from stores and reject; the policy's default is allow.
"""

from __future__ import annotations

from decimal import Decimal as D

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer.scenario import RunOutcome, run_scenario

PLANT = """\
format: 1
name: Stool, line side
policy: {{negative_stock: allow}}
items:
  - {{code: SEAT, standard_cost: 5.00, negative_stock: reject}}
  - {{code: LEG, standard_cost: 1.00, backflush_from: line-1, negative_stock: queue}}
  - {{code: GLUE, standard_cost: 0.10}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}, {{item: GLUE, qty: 1}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10, unit_price: 5.00, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 20, unit_price: 1.00, id: PO-2}}
  - {{type: transfer, date: 2026-11-03, item: LEG, qty: 10, from: stores, to: line-1,
     id: TR-1}}
  - {{type: completion, date: 2026-11-05, item: STOOL, qty: 5, id: WO-1}}
{more}"""


def run(more: str = "") -> tuple[RunOutcome, dict]:  # type: ignore[type-arg]
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(PLANT.format(more=more)))
    with ledger.unit_of_work(read_only=True) as uow:
        return outcome, run_json(uow if outcome.ok else None, outcome.errors)


def test_a_short_line_side_component_queues_at_its_location() -> None:
    outcome, doc = run()
    assert outcome.ok, outcome.errors
    # 15 legs needed at line-1, 10 there: 10 taken, 5 parked for WO-1. Seats (5 of 10) from
    # stores. Glue (none received) follows the policy: allowed below zero, with an alert.
    assert doc["queue"] == [{"event": "WO-1", "item": "LEG", "location": "line-1",
                             "qty": "5", "since": "2026-11-05", "age_days": 0,
                             "reason": "short stock", "blocks_close": True}]
    stock = {(s["item"], s["location"]): s["qty"] for s in doc["stock"]}
    assert ("LEG", "line-1") not in stock  # all 10 taken
    assert stock[("LEG", "stores")] == "10" and stock[("SEAT", "stores")] == "5"
    assert stock[("GLUE", "stores")] == "-5"
    assert any(a["code"] == "negative_stock" and "GLUE" in a["message"] for a in doc["alerts"])


def test_the_queue_clears_when_stock_arrives_at_the_location() -> None:
    arrives = ("  - {type: transfer, date: 2026-11-09, item: LEG, qty: 5, from: stores, "
               "to: line-1, id: TR-2}\n")
    outcome, doc = run(arrives)
    assert outcome.ok and doc["queue"] == []
    stock = {(s["item"], s["location"]): D(s["qty"]) for s in doc["stock"]}
    assert stock.get(("LEG", "line-1"), D(0)) == 0 and stock[("LEG", "stores")] == 5


def test_an_item_that_rejects_refuses_the_whole_completion() -> None:
    too_many = "  - {type: completion, date: 2026-11-06, item: STOOL, qty: 6, id: WO-2}\n"
    outcome, doc = run(too_many)
    assert not outcome.ok and outcome.refused
    (problem,) = outcome.errors
    assert "WO-2" in str(problem.entry)
    assert "SEAT" in problem.message and "LEG" not in problem.message
    assert doc["journal"] == []  # nothing of the run was posted


def test_bom_accuracy_in_the_json_document() -> None:
    counted = "  - {type: count, date: 2026-11-30, item: SEAT, qty: 3, id: CC-1}\n"
    outcome, doc = run(counted)
    assert outcome.ok, outcome.errors
    # 5 seats backflushed for 5 stools, 2 more missing at the count: about 1.4 per stool.
    (finding,) = doc["bom_accuracy"]
    assert (finding["parent"], finding["component"], finding["bom_version"],
            finding["qty_per"], finding["flagged"]) == ("STOOL", "SEAT", 1, "1", True)
    assert D(finding["estimated_qty_per"]) == D("1.4")
