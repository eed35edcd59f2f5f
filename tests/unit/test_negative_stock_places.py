"""Negative stock per location (issue 16, item 2): the policy's ``negative_stock_at`` gives a
location its rule; an item's own rule comes first, then its location's, then the policy's
default. Under each rule a completion short of stock at the line is queued, posted with an
alert, or refused with nothing posted, and the same on SQLite (tests/integration)."""

from __future__ import annotations

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import ValidationError
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
policy: {{negative_stock: allow, negative_stock_at: {{line-1: {line}}}}}
items:
  - {{code: SEAT, standard_cost: 5.00{seat}}}
  - {{code: LEG, standard_cost: 1.00, backflush_from: line-1}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 2, unit_price: 5.00, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 20, unit_price: 1.00, id: PO-2}}
  - {{type: transfer, date: 2026-11-03, item: LEG, qty: 6, from: stores, to: line-1,
     id: TR-1}}
  - {{type: completion, date: 2026-11-05, item: STOOL, qty: 3, id: WO-1}}
"""


def run(line: str, seat: str = "") -> tuple[bool, dict]:  # type: ignore[type-arg]
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(),
                           scenario_from_text(PLANT.format(line=line, seat=seat)))
    with ledger.unit_of_work(read_only=True) as uow:
        return outcome.ok, run_json(uow if outcome.ok else None, outcome.errors)


def test_a_location_that_queues_parks_what_the_line_lacks() -> None:
    ok, doc = run("queue")
    assert ok
    # 9 legs needed at line-1, 6 there: 3 parked; 3 seats needed at stores, 2 there: the
    # policy's default (allow) takes stores below zero, with an alert.
    assert [(q["item"], q["location"], q["qty"]) for q in doc["queue"]] == [
        ("LEG", "line-1", "3")]
    stock = {(s["item"], s["location"]): s["qty"] for s in doc["stock"]}
    assert stock[("SEAT", "stores")] == "-1"
    assert any(a["code"] == "negative_stock" and "SEAT" in a["message"] for a in doc["alerts"])


def test_a_location_that_rejects_refuses_the_completion() -> None:
    ok, doc = run("reject")
    assert not ok and doc["journal"] == []
    assert "LEG at line-1: needs 9, has 6" in doc["errors"][0]["message"]


def test_an_items_own_rule_comes_before_its_locations() -> None:
    ok, doc = run("allow", seat=", negative_stock: reject")
    assert not ok and "SEAT at stores" in doc["errors"][0]["message"]
    ok, doc = run("queue", seat=", negative_stock: allow")
    assert ok and [q["item"] for q in doc["queue"]] == ["LEG"]


def test_a_bad_location_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"negative_stock_at\.line-1"):
        scenario_from_text(PLANT.format(line="sometimes", seat=""))
