"""Backflush suitability (issue 16, item 8) and the KPIs it rests on (item 7: scrap by work
center, on-time receipts), on the memory store: each check fires strictly beyond its
threshold and not at it, every figure worked out by hand below."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import Ledger, memory_ledger
from backflush.domain.errors import NumberError, ValidationError
from backflush.domain.events import Receipt
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer.kpis import kpis
from backflush.service_layer.reports import ALL, Window
from backflush.service_layer.scenario import run_scenario
from backflush.service_layer.suitability import (
    Suitability,
    Thresholds,
    suitability,
    thresholds_of,
)

# SEAT 5.00 + 3 LEG 1.00 + 0.1 h ASSY and 0.1 h PAINT at 10.00: STOOL's standard is 10.00.
# TABLE (BOM v2 in force: 5 LEG) + 0.5 h ASSY: 10.00. Two BOM versions of TABLE.
PLANT = """\
format: 1
name: suitability
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL}
  - {code: TABLE}
work_centers:
  - {code: ASSY, rate: 10.00}
  - {code: PAINT, rate: 10.00}
routings:
  STOOL:
    - {operation: 10, work_center: ASSY, run_hours: 0.1}
    - {operation: 20, work_center: PAINT, run_hours: 0.1}
  TABLE:
    - {operation: 10, work_center: ASSY, run_hours: 0.5}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
  TABLE:
    versions:
      - {version: 1, effective: 2026-01-01, lines: [{item: LEG, qty: 4}]}
      - {version: 2, effective: 2026-06-01, lines: [{item: LEG, qty: 5}]}
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.00, supplier: Acme,
     due: 2026-11-02, id: PO-1}
  - {type: receipt, date: 2026-11-06, item: LEG, qty: 400, unit_price: 1.00, supplier: Acme,
     due: 2026-11-03, id: PO-2}
  - {type: receipt, date: 2026-11-02, item: LEG, qty: 100, unit_price: 1.00, supplier: Bolt,
     id: PO-3}
  - {type: release, date: 2026-11-02, item: STOOL, qty: 40, id: WO-1}
  - {type: release, date: 2026-11-20, item: STOOL, qty: 30, id: WO-2}
  - {type: completion, date: 2026-11-10, item: STOOL, qty: 36, scrap_qty: 4, order: WO-1,
     id: C-1}
  - {type: completion, date: 2026-11-22, item: STOOL, qty: 20, order: WO-2, hours: {ASSY: 2},
     id: C-2}
  - {type: completion, date: 2026-11-12, item: TABLE, qty: 5, id: C-3}
  - {type: sale, date: 2026-11-25, item: STOOL, qty: 50, id: SO-1}
  - {type: count, date: 2026-11-30, item: SEAT, qty: 36, id: CC-1}
"""
# Stock at the end: SEAT 100 - 60 backflushed = 40 on the books, 36 counted (-4, 10 % of
# the book, -20.00); LEG 500 - 180 - 25 = 295; STOOL 56 - 50 = 6; TABLE 5. Inventory at the
# end 180.00 + 295.00 + 60.00 + 50.00 = 585.00, at the start 0: average 292.50. Cost of
# goods sold 50 x 10.00 = 500.00 over 29 days (2 to 30 November): 500 / 292.50 = 1.7094,
# a year 500 x 365 / (292.50 x 29) = 21.5149.


def ledger_of(text: str = PLANT) -> Ledger:
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    return ledger


@pytest.fixture(scope="module")
def plant() -> Ledger:
    return ledger_of()


def report(ledger: Ledger, window: Window = ALL, **limits: object) -> Suitability:
    with ledger.unit_of_work(read_only=True) as uow:
        return suitability(uow, window, Thresholds(**limits))  # type: ignore[arg-type]


def fired(s: Suitability, check: str) -> dict[str, tuple[D, D | None]]:
    return {f.subject: (f.figure, f.value) for f in s.findings if f.check == check}


def test_the_kpis_by_work_center_and_on_time_receipts(plant: Ledger) -> None:
    with plant.unit_of_work(read_only=True) as uow:
        k = kpis(uow, ALL)
    # C-1 (no hours reported) passes ASSY and PAINT by its routing: 36 good, 4 scrapped;
    # C-2 reported hours at ASSY only: 20 good; C-3 (TABLE) at ASSY: 5 good.
    assert [(w.work_center, w.good, w.scrapped, w.rate) for w in k.work_centers] == [
        ("ASSY", D(61), D(4), D("0.0615")), ("PAINT", D(36), D(4), D("0.1"))]
    # Acme: PO-1 on its due day, PO-2 three days late; Bolt gave no due date.
    [acme] = k.deliveries
    assert (acme.supplier, acme.with_due, acme.on_time, acme.days_late) == ("Acme", 2, 1, 3)
    assert acme.on_time_rate == D("0.5") and acme.average_days_late == D(3)
    # WO-1 8 days to its last completion, WO-2 (a completion names it, 10 still open) 2.
    assert (k.orders.cycle_days, k.orders.longest_cycle_days) == (D(5), 8)
    assert (k.cost_of_goods_sold, k.average_inventory) == (D("500.00"), D("292.50"))
    assert (k.inventory_turnover, k.days, k.annual_turnover) == (D("1.7094"), 29,
                                                                 D("21.5149"))


def test_the_run_document_carries_the_new_kpis_and_the_suitability(plant: Ledger) -> None:
    with plant.unit_of_work(read_only=True) as uow:
        doc = run_json(uow, [])
    k = doc["kpis"]
    assert k["scrap_by_work_center"][1] == {"work_center": "PAINT", "good": "36",
                                            "scrapped": "4", "rate": "0.1"}
    assert k["on_time_receipts"] == [{"supplier": "Acme", "with_due": 2, "on_time": 1,
                                      "on_time_rate": "0.5", "average_days_late": "3"}]
    assert k["annual_inventory_turnover"] == "21.5149" and k["days"] == 29
    s = doc["suitability"]
    assert s["as_of"] == "2026-11-30" and s["thresholds"]["max_cycle_days"] == 5
    assert s["work_in_process_not_on_books"] == "100.00"
    assert {f["check"] for f in s["findings"]} == {
        "cycle_time", "open_orders", "customised", "count_difference", "scrap_rate",
        "work_center_scrap"}
    assert all(isinstance(c["examined"], int) for c in s["checks"])


def test_slow_turnover_fires_below_the_threshold_not_at_it(plant: Ledger) -> None:
    s = report(plant, min_turnover=D("21.5150"))
    [f] = [f for f in s.findings if f.check == "turnover"]
    assert (f.figure, f.threshold, f.unit) == (D("21.5149"), D("21.5150"), "turns a year")
    assert "500.00" in f.explanation and "292.50" in f.explanation
    assert "turnover" not in {f.check for f in report(plant, min_turnover=D("21.5149")).findings}
    assert "turnover" not in {f.check for f in report(plant).findings}  # 12 by default


def test_a_slow_release_to_completion_fires_beyond_the_days_not_at_them(plant: Ledger) -> None:
    # WO-1: released on the 2nd, last completion on the 10th: 8 days.
    assert fired(report(plant, max_cycle_days=7), "cycle_time") == {"STOOL": (D(8), None)}
    assert fired(report(plant, max_cycle_days=8), "cycle_time") == {}


def test_an_open_order_older_than_the_threshold_is_valued_work_in_process(
        plant: Ledger) -> None:
    # WO-2: 30 released on the 20th, 20 completed; on the 30th (the last event) 10 days
    # open, 10 units x STOOL's standard 10.00.
    s = report(plant, max_cycle_days=9)
    assert fired(s, "open_orders") == {"WO-2": (D(10), D("100.00"))}
    assert s.work_in_process == D("100.00")
    [f] = [f for f in s.findings if f.check == "open_orders"]
    assert "10 of its 30" in f.explanation and "100.00" in f.explanation
    assert fired(report(plant, max_cycle_days=10), "open_orders") == {}
    # On the 25th the order was 5 days old: not beyond 5.
    early = report(plant, Window(None, date(2026, 11, 25)))
    assert fired(early, "open_orders") == {}


def test_an_item_made_once_and_an_item_with_many_bom_versions_are_customised(
        plant: Ledger) -> None:
    # TABLE was completed once (STOOL twice); TABLE has two BOM versions.
    assert fired(report(plant), "customised") == {"TABLE": (D(1), None)}
    assert fired(report(plant, min_completions=1), "customised") == {}
    assert fired(report(plant, min_completions=3), "customised") == {
        "STOOL": (D(2), None), "TABLE": (D(1), None)}
    assert fired(report(plant, max_bom_versions=1), "bom_versions") == {"TABLE": (D(2), None)}
    assert fired(report(plant, max_bom_versions=2), "bom_versions") == {}


def test_a_large_count_difference_fires_beyond_its_share_of_the_book(plant: Ledger) -> None:
    # CC-1: 36 counted against 40 on the books, -4: 10 % of the book, -20.00 at standard.
    assert fired(report(plant, max_count_difference=D("0.09")), "count_difference") == {
        "CC-1": (D("0.1"), D("-20.00"))}
    assert fired(report(plant, max_count_difference=D("0.1")), "count_difference") == {}


def test_a_high_scrap_rate_fires_by_item_and_by_work_center(plant: Ledger) -> None:
    # STOOL 4 of 60 (0.0667); work centers ASSY 4 of 65 (0.0615), PAINT 4 of 40 (0.1).
    s = report(plant, max_scrap_rate=D("0.06"))
    assert fired(s, "scrap_rate") == {"STOOL": (D("0.0667"), None)}
    assert fired(s, "work_center_scrap") == {"ASSY": (D("0.0615"), None),
                                             "PAINT": (D("0.1"), None)}
    s = report(plant, max_scrap_rate=D("0.0667"))
    assert fired(s, "scrap_rate") == {} and fired(s, "work_center_scrap") == {
        "PAINT": (D("0.1"), None)}
    assert fired(report(plant, max_scrap_rate=D("0.1")), "work_center_scrap") == {}


def test_every_check_reports_what_it_examined_even_without_findings(plant: Ledger) -> None:
    s = report(plant, max_cycle_days=100, min_completions=1, max_count_difference=D(1),
               max_scrap_rate=D(1))
    assert s.findings == []
    assert {c.code: c.examined for c in s.checks} == {
        "turnover": 1, "cycle_time": 1, "open_orders": 2, "customised": 2, "bom_versions": 2,
        "count_difference": 1, "scrap_rate": 1, "work_center_scrap": 2}


def test_a_reversed_completion_is_left_out() -> None:
    ledger = ledger_of(PLANT + "  - {type: reversal, date: 2026-11-30, of: C-3, id: R-1}\n")
    s = report(ledger)
    assert fired(s, "customised") == {}


def test_an_empty_ledger_has_nothing_to_find() -> None:
    ledger = ledger_of("format: 1\nname: empty\nitems: [{code: SEAT, standard_cost: 1}]\n"
                       "events: []\n")
    s = report(ledger)
    assert s.as_of is None and s.findings == [] and s.work_in_process == 0


@pytest.mark.parametrize(("given", "field", "message"), [
    ({"min_turnover": "many"}, "min_turnover", "not a decimal number"),
    ({"min_turnover": "-1"}, "min_turnover", "zero or more"),
    ({"max_scrap_rate": "1.5"}, "max_scrap_rate", "from 0 to 1"),
    ({"max_count_difference": "0.1e3x"}, "max_count_difference", "not a decimal number"),
    ({"max_cycle_days": "2.5"}, "max_cycle_days", "whole number"),
    ({"max_cycle_days": "-1"}, "max_cycle_days", "whole number"),
    ({"min_completions": "0"}, "min_completions", "from 1"),
    ({"max_bom_versions": "0"}, "max_bom_versions", "from 1"),
    ({"tolerance": "1"}, "tolerance", "not a suitability threshold"),
])
def test_a_bad_threshold_is_refused_naming_it(given: dict[str, str], field: str,
                                              message: str) -> None:
    with pytest.raises(NumberError, match=message) as caught:
        thresholds_of(given)
    assert caught.value.field == field


def test_thresholds_given_as_text_stay_exact() -> None:
    t = thresholds_of({"min_turnover": "6.5", "max_cycle_days": " 3 ", "max_scrap_rate": None})
    assert (t.min_turnover, t.max_cycle_days, t.max_scrap_rate) == (D("6.5"), 3, D("0.05"))


def test_a_receipt_due_that_is_not_a_date_is_refused_and_nothing_posted() -> None:
    with pytest.raises(NumberError, match="due: expected a date"):
        Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT",
                qty=D(1), unit_price=D(1), due="2026-11-03")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        scenario_from_text(PLANT.replace("due: 2026-11-03", "due: soon"))
    [problem] = caught.value.problems
    assert problem.field == "due" and "events[1]" in problem.entry


def test_a_receipt_without_a_due_date_keeps_its_content_hash() -> None:
    # ``due`` was added after receipts were stored: left out of the content at its default.
    when = date(2026, 11, 2)
    plain = Receipt(id="PO-1", date=when, item="SEAT", qty=D(1), unit_price=D(1))
    assert "due" not in plain.content()
    dated = Receipt(id="PO-1", date=when, item="SEAT", qty=D(1), unit_price=D(1), due=when)
    assert dated.content()["due"] == "2026-11-02"
    assert dated.content_hash() != plain.content_hash()


def test_a_negative_rate_below_one_keeps_its_sign_in_a_table() -> None:
    # A favourable supplier price variance of -0.0021 was shown as 0.0021 (int("-0") is 0).
    from backflush.entrypoints.output.safety import Number
    from backflush.entrypoints.output.tables import Column, display

    qty = Column("value", "qty")
    assert [display(Number(t), qty, 2) for t in ("-0.0021", "-1234.5", "0.5", "12345")] == [
        "-0.0021", "-1,234.5", "0.5", "12,345"]


def test_a_partly_reversed_completion_leaves_its_order_open_by_what_it_took_back() -> None:
    # WO-2: 30 released, C-2 completed 20 of them, 5 taken back: 15 open x STOOL's 10.00.
    ledger = ledger_of(PLANT + "  - {type: reversal, date: 2026-11-30, of: C-2, qty: 5, "
                       "id: R-2}\n")
    s = report(ledger, max_cycle_days=9)
    assert fired(s, "open_orders") == {"WO-2": (D(10), D("150.00"))}
