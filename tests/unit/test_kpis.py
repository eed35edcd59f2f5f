"""Key figures (issue 16, item 7), computed by hand on small plants."""

from __future__ import annotations

from decimal import Decimal as D
from importlib import resources

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
name: orders
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: STOOL, conversion_cost: 1.00}
boms:
  STOOL: [{item: SEAT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.10, supplier: Acme}
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 4.95, supplier: Bolt}
  - {type: release, date: 2026-11-03, item: STOOL, qty: 40, due: 2026-11-06, id: WO-7}
  - {type: release, date: 2026-11-03, item: STOOL, qty: 10, due: 2026-11-04, id: WO-8}
  - {type: release, date: 2026-11-03, item: STOOL, qty: 10, id: WO-9}
  - {type: completion, date: 2026-11-05, item: STOOL, qty: 38, scrap_qty: 2, order: WO-7}
  - {type: completion, date: 2026-11-09, item: STOOL, qty: 10, order: WO-8, id: C-8}
  - {type: scrap, date: 2026-11-10, item: SEAT, qty: 5, id: SC-1}
  - {type: sale, date: 2026-11-12, item: STOOL, qty: 30}
"""


def doc_of(text: str) -> dict:  # type: ignore[type-arg]
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    with ledger.unit_of_work(read_only=True) as uow:
        return run_json(uow, [])


def test_scrap_rates_supplier_prices_orders_and_turnover() -> None:
    k = doc_of(PLANT)["kpis"]
    # STOOL: 2 scrapped of 50 made (38 + 2, and 10); SEAT: 5 scrapped of 50 backflushed + 5.
    assert {s["item"]: s["rate"] for s in k["scrap"]} == {"SEAT": "0.0909", "STOOL": "0.04"}
    # Acme 510.00 against 500.00 (+2 %); Bolt 495.00 against 500.00 (−1 %).
    assert [(p["supplier"], p["price_variance"], p["variance_rate"]) for p in k["suppliers"]
            ] == [("Acme", "10.00", "0.02"), ("Bolt", "-5.00", "-0.01")]
    # WO-7 done on the 5th (due the 6th), WO-8 on the 9th (due the 4th), WO-9 not started:
    # cycles of 2 and 6 days.
    assert k["orders"] == {"released": 3, "completed": 2, "on_time": 1, "with_due": 2,
                           "average_cycle_days": "4", "longest_cycle_days": 6}
    # COGS 30 × 6.00 = 180.00; inventory 0 at the start, at the end 145 seats (725.00) and
    # 18 stools (108.00): average 416.50; 180 / 416.50.
    assert k["cost_of_goods_sold"] == "180.00" and k["average_inventory"] == "416.50"
    assert k["inventory_turnover"] == "0.4322"


def test_supplier_price_variances_add_up_to_the_family_on_the_demo() -> None:
    text = resources.files("backflush").joinpath("data/demo.yaml").read_text("utf-8")
    doc = doc_of(text)
    total = sum((D(p["price_variance"]) for p in doc["kpis"]["suppliers"]), D(0))
    assert total == D(doc["variances"]["purchase_price"])


def test_a_partly_reversed_completion_and_receipt_count_what_is_left() -> None:
    from backflush.adapters.files import scenario_from_text
    from backflush.bootstrap import memory_ledger
    from backflush.service_layer.kpis import kpis
    from backflush.service_layer.reports import ALL
    from backflush.service_layer.scenario import run_scenario

    text = """\
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.50, id: P1,
     supplier: Acme}
  - {type: completion, date: 2026-11-03, item: STOOL, qty: 10, scrap_qty: 2, id: W1}
  - {type: reversal, date: 2026-11-04, of: W1, qty: 5, id: X1}
  - {type: reversal, date: 2026-11-04, of: P1, qty: 40, id: X2}
"""
    book = memory_ledger()
    assert run_scenario(book.unit_of_work(), scenario_from_text(text)).ok
    with book.unit_of_work(read_only=True) as uow:
        k = kpis(uow, ALL)
    (stool,) = [s for s in k.scrap if s.item == "STOOL"]
    assert (stool.good, stool.scrapped) == (5, 1)  # half of 10 good and 2 scrapped
    (acme,) = k.suppliers
    assert (acme.at_invoice, acme.at_standard) == (330, 300)  # 60 left of 100
