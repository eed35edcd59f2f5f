"""Variance analysis (issue 15, item 1) on a stool with a routing, computed by hand.

ASSY's rates come from a period budget: labor 25,000 and overhead 50,000 for 1,250 hours,
so 20.00 and 40.00 an hour; a stool takes 0.1 h (6.00 of conversion: 2.00 labor, 4.00
overhead). November: labor 25,000 and overhead 36,500 incurred; 9,800 stools completed in
1,000 hours (980 standard); 9,500 sold.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer.analysis import Analysis, variance_analysis
from backflush.service_layer.reports import Window
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
name: Stool with a routing
policy: {{trigger_points: [{triggers}]}}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
work_centers:
  - {{code: ASSY, budget: {{labor: 25000, overhead: 50000, hours: 1250}}}}
routings:
  STOOL: [{{operation: 10, work_center: ASSY, run_hours: 0.1}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.10, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}}
{incurred}
  - {{type: completion, date: 2026-11-20, item: STOOL, qty: 9800, scrap_qty: {scrapped},
     hours: {{ASSY: 1000}}, id: WO-1}}
  - {{type: sale, date: 2026-11-25, item: STOOL, qty: 9500, unit_price: 25, id: SO-1}}
{more}  - {{type: close, period: 2026-11}}
"""
BY_ELEMENT = """\
  - {type: conversion_incurred, date: 2026-11-30, amount: 25000, element: labor, id: CV-1}
  - {type: conversion_incurred, date: 2026-11-30, amount: 36500, element: overhead, id: CV-2}"""
UNDIVIDED = """\
  - {type: conversion_incurred, date: 2026-11-30, amount: 61500, id: CV-1}"""
NOVEMBER = Window(date(2026, 11, 1), date(2026, 11, 30))


def analysed(triggers: str = "purchase, completion, sale", incurred: str = BY_ELEMENT,
             scrapped: int = 0, more: str = "") -> Analysis:
    ledger = memory_ledger()
    text = PLANT.format(triggers=triggers, incurred=incurred, scrapped=scrapped, more=more)
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    with ledger.unit_of_work(read_only=True) as uow:
        return variance_analysis(uow, NOVEMBER)


def test_spending_efficiency_and_volume_by_element() -> None:
    a = analysed()
    # Applied at actual hours: 1,000 h × (20 + 40) = 60,000; standard 980 h: 58,800.
    # Efficiency: 20 h × 20 = 400 labor, 20 h × 40 = 800 overhead.
    # Volume: budget less actual hours × rate: 25,000 − 20,000 and 50,000 − 40,000.
    # Spending: incurred less applied less volume: labor 0, overhead 36,500 − 40,000 − 10,000.
    assert a.conversion == {("efficiency", "labor"): D("400.00"),
                            ("volume", "labor"): D("5000.00"),
                            ("spending", "overhead"): D("-13500.00"),
                            ("efficiency", "overhead"): D("800.00"),
                            ("volume", "overhead"): D("10000.00")}
    assert sum(a.conversion.values(), D(0)) == a.families["conversion"] == D("2700.00")
    assert a.budgeted


def test_without_the_completion_trigger_conversion_of_unsold_stools_is_timing() -> None:
    a = analysed("purchase, sale")
    # Applied at the sale at standard: 9,500 × 2.00 labor, × 4.00 overhead. The 300 stools
    # not sold hold 600 of labor and 1,200 of overhead not applied yet: timing, not a
    # variance. No efficiency: hours are not applied without the completion trigger.
    assert a.conversion == {("spending", "labor"): D("400.00"),
                            ("volume", "labor"): D("5000.00"),
                            ("timing", "labor"): D("600.00"),
                            ("spending", "overhead"): D("-12700.00"),
                            ("volume", "overhead"): D("10000.00"),
                            ("timing", "overhead"): D("1200.00")}
    assert sum(a.conversion.values(), D(0)) == a.families["conversion"] == D("4500.00")


def test_undivided_conversion_incurred_is_one_row_per_part() -> None:
    a = analysed(incurred=UNDIVIDED)
    assert a.conversion == {("spending", "conversion"): D("-13500.00"),
                            ("efficiency", "conversion"): D("1200.00"),
                            ("volume", "conversion"): D("15000.00")}


def test_component_and_assembly_scrap_apart() -> None:
    scrap = "  - {type: scrap, date: 2026-11-21, item: SEAT, qty: 10, id: SC-1}\n"
    a = analysed(scrapped=5, more=scrap)
    # 10 seats × 5.00; 5 stools × (8.00 material + 6.00 conversion).
    assert a.scrap == {"component": D("50.00"), "assembly": D("70.00")}
    assert a.families["scrap"] == D("120.00")


def test_a_reversal_takes_its_event_back_out() -> None:
    back = "  - {type: reversal, date: 2026-11-26, of: CV-2, id: R-1}\n"
    a = analysed(more=back)
    assert a.conversion[("spending", "overhead")] == D("-13500.00") - D("36500.00")


@pytest.mark.parametrize("triggers", ["purchase, completion, sale", "purchase, sale"])
def test_the_analysis_in_the_json_document(triggers: str) -> None:
    ledger = memory_ledger()
    text = PLANT.format(triggers=triggers, incurred=BY_ELEMENT, scrapped=0, more="")
    assert run_scenario(ledger.unit_of_work(), scenario_from_text(text)).ok
    with ledger.unit_of_work(read_only=True) as uow:
        (period,) = run_json(uow, [])["periods"]
    conversion = period["variance_analysis"]["conversion"]
    assert conversion["volume"] == {"labor": "5000.00", "overhead": "10000.00"}
    assert ("timing" in conversion) == (triggers == "purchase, sale")
