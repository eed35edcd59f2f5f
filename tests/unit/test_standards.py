"""Standards maintenance (issue 15, item 5): a work center's rates change after posting,
the parents are rolled up again and the stock revalued; the revaluation is prorated by
default; the what-if preview posts nothing.

The stool is made at ASSY (0.1 h at labor 20.00 + overhead 40.00 = 6.00 a stool); 300
stools are left in finished goods at 14.00 when labor goes to 22.00: the stool's standard
becomes 14.20, and the 300 are revalued by 60.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import Ledger, memory_ledger
from backflush.domain.errors import PostingError
from backflush.domain.events import Completion, RateChange
from backflush.service_layer import reports
from backflush.service_layer.imports import import_master
from backflush.service_layer.posting import post_events, preview_events
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
name: Stool with a routing
{policy}items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
work_centers:
  - {{code: ASSY, labor_rate: 20, overhead_rate: 40}}
routings:
  STOOL: [{{operation: 10, work_center: ASSY, run_hours: 0.1}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.00, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}}
  - {{type: conversion_incurred, date: 2026-11-30, amount: 58800, id: CV-1}}
  - {{type: completion, date: 2026-11-20, item: STOOL, qty: 9800, id: WO-1}}
  - {{type: sale, date: 2026-11-25, item: STOOL, qty: 9500, unit_price: 25, id: SO-1}}
{more}"""
RAISE = "  - {type: rate_change, date: 2026-11-27, work_center: ASSY, labor_rate: 22, id: RC-1}\n"


def ledger_of(more: str = "", policy: str = "") -> Ledger:
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(
        PLANT.format(more=more, policy=policy)))
    assert outcome.ok, outcome.errors
    return ledger


def test_a_rate_change_rolls_up_the_parents_and_revalues_the_stock() -> None:
    ledger = ledger_of(RAISE)
    with ledger.unit_of_work(read_only=True) as uow:
        assert uow.master.costs()["STOOL"].unit_cost == D("14.20")
        assert uow.master.master().work_centers["ASSY"].labor_rate == D("22.00")
        balances = dict(reports.trial_balance(uow))
        (entry,) = [s.entry for s in uow.journal.entries_of("RC-1")]
    assert balances["Finished Goods Inventory"] == D("4260.00")  # 300 × 14.20
    assert {ln.account: ln.net for ln in entry.lines} == {
        "Finished Goods Inventory": D("60.00"), "Revaluation Variance": D("-60.00")}
    # A completion after it applies the new rate: 10 × 0.1 h × 62.00.
    post_events(ledger.unit_of_work(), [Completion(id="WO-2", date=date(2026, 11, 28),
                                                   item="STOOL", qty=D(10))])
    with ledger.unit_of_work(read_only=True) as uow:
        (done,) = [s.entry for s in uow.journal.entries_of("WO-2")]
    assert {ln.account: ln.net for ln in done.lines}["Conversion Costs Applied"] == D("-62.00")


def test_the_revaluation_is_prorated_by_default_not_income_the_day_it_changed() -> None:
    close = "  - {type: close, period: 2026-11}\n"
    ledger = ledger_of(RAISE + close)
    with ledger.unit_of_work(read_only=True) as uow:
        balances = dict(reports.trial_balance(uow))
    # The 60.00 gain on stools never sold stays beside them: over their material content
    # (2,400 of 300 stools in FG; 1,000 + 600 of parts) and this period's cost of sales
    # (76,000): 1,600/80,000 × 60 = 1.20, 2,400/80,000 × 60 = 1.80, COGS 57.00.
    assert balances["Capitalized Variances - Finished Goods"] == D("-1.80")
    assert balances["Capitalized Variances - Raw and In-Process"] == D("-1.20")
    written_off = ledger_of(RAISE + close, "policy: {disposition: write_off}\n")
    with written_off.unit_of_work(read_only=True) as uow:
        assert "Capitalized Variances - Finished Goods" not in dict(reports.trial_balance(uow))


def test_an_unknown_work_center_is_refused_and_nothing_posts() -> None:
    ledger = ledger_of()
    with pytest.raises(PostingError) as caught:
        post_events(ledger.unit_of_work(), [RateChange(
            id="RC-9", date=date(2026, 11, 27), work_center="WELD",
            rate=D(50))])
    assert caught.value.problem.field == "work_center"
    with ledger.unit_of_work(read_only=True) as uow:
        assert uow.events.get("RC-9") is None and uow.master.costs().number == 1


def test_the_preview_shows_the_revaluation_and_keeps_nothing() -> None:
    ledger = ledger_of()
    change = RateChange(id="RC-1", date=date(2026, 11, 27),
                        work_center="ASSY", labor_rate=D(22))
    with ledger.unit_of_work(read_only=True) as uow:
        before = reports.trial_balance(uow)
    seen = preview_events(ledger.unit_of_work(), [change])
    assert seen.changes == {"Finished Goods Inventory": D("60.00"),
                            "Revaluation Variance": D("-60.00")}
    assert [(e.event_id, e.type) for _, e in seen.entries] == [("RC-1", "cost_change")]
    with ledger.unit_of_work(read_only=True) as uow:
        assert reports.trial_balance(uow) == before
        assert uow.events.get("RC-1") is None and uow.master.costs().number == 1


def test_importing_work_centers_after_posting_posts_their_rate_changes() -> None:
    from backflush.domain.routing import WorkCenter

    ledger = ledger_of()
    result = import_master(ledger.unit_of_work(), "work-centers", date(2026, 11, 27),
                           work_centers=[WorkCenter("ASSY", D(22), D(40)),
                                         WorkCenter("PACK", conversion_rate=D(30))], rows=2)
    assert result.posted is not None and result.posted.posted == 1
    with ledger.unit_of_work(read_only=True) as uow:
        assert uow.master.costs()["STOOL"].unit_cost == D("14.20")
        assert "PACK" in uow.master.master().work_centers
        assert uow.events.get("rates-2026-11-27-ASSY") is not None
