"""BOM accuracy from counts (issue 16, item 5): the least-squares estimate in the domain,
and the report through the service on the memory store with generated data: a wrong line
on a component shared by three parents found (and the right ones not), one parent exact,
too few intervals, unreported scrap told from a wrong line, stock gone with no BOM line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.accuracy import Interval, LineInfo, fit, least_squares, solve
from backflush.service_layer.accuracy import AccuracyReport, bom_accuracy
from backflush.service_layer.reports import Window
from backflush.service_layer.scenario import run_scenario
from tests.accuracy_data import SHARED, WRONG, plant


def report(text: str, window: Window = Window(), tolerance: D | None = None
           ) -> AccuracyReport:
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    with ledger.unit_of_work(read_only=True) as uow:
        return bom_accuracy(uow, window, tolerance)


def by_parent(found: AccuracyReport) -> dict[str, object]:
    return {a.line.parent: a for a in found.lines}


def test_normal_equations_are_solved_exactly() -> None:
    assert solve([[F(2), F(1)], [F(1), F(3)]], [F(5), F(10)]) == [F(1), F(3)]
    assert solve([[F(1), F(2)], [F(2), F(4)]], [F(1), F(2)]) is None  # singular
    # y = 2 x1 + x2/3, exactly
    x = [[F(1), F(0)], [F(0), F(3)], [F(2), F(3)]]
    assert least_squares(x, [F(2), F(1), F(5)]) == [F(2), F(1, 3)]


def test_one_line_is_total_consumption_over_total_units() -> None:
    line = LineInfo("STOOL", 1, "LEG", D(3), D(0), D(3))
    ivs = [Interval("LEG", "stores", None, date(2026, 11, 5), D(310), {"STOOL@v1": D(100)}),
           Interval("LEG", "stores", date(2026, 11, 5), date(2026, 11, 9), D(650),
                    {"STOOL@v1": D(200)})]
    (a,), gone = fit(ivs, {"STOOL@v1": line}, D("0.02"))
    assert gone is None and a.estimated == D(960) / D(300)  # 3.2, not Σxy/Σx²
    assert a.flagged and a.finding == "over_consumption" and a.suggested == D("3.2")
    assert a.intervals == 2 and a.units == 300


def test_the_wrong_line_on_a_shared_component_is_flagged_and_the_right_ones_not() -> None:
    found = report(plant(SHARED, WRONG, intervals=8))
    lines = by_parent(found)
    stool, chair, table = lines["STOOL"], lines["CHAIR"], lines["TABLE"]
    assert stool.flagged and stool.finding == "over_consumption"  # type: ignore[attr-defined]
    assert stool.cause == "wrong_bom_line"  # type: ignore[attr-defined]
    assert abs(stool.estimated - D("3.5")) < D("0.05")  # type: ignore[attr-defined]
    assert abs(stool.suggested - D("3.5")) < D("0.05")  # type: ignore[attr-defined]
    assert stool.intervals == 8 and stool.residual_rms < 5  # type: ignore[attr-defined]
    assert not chair.flagged and not table.flagged  # type: ignore[attr-defined]
    assert abs(chair.estimated - 4) < D("0.05")  # type: ignore[attr-defined]
    assert found.flagged == [stool] and found.unexplained == []


def test_one_parent_is_estimated_exactly() -> None:
    found = report(plant({"STOOL": {"LEG": "3"}}, {"STOOL": {"LEG": "3.25"}}, intervals=3,
                         noise=0))
    (a,) = found.lines
    assert a.estimated == D("3.25") and a.residual_rms == 0 and a.suggested == D("3.25")
    assert a.flagged and a.cause == "wrong_bom_line"


def test_too_few_intervals_for_the_parents_says_so() -> None:
    found = report(plant(SHARED, WRONG, intervals=2))
    assert {a.finding for a in found.lines} == {"not_estimable"}
    assert not found.flagged
    note = found.lines[0].note
    assert "too few intervals: 2 count interval(s) for 3 BOM lines" in note
    assert "at least 1 more" in note
    assert all(a.estimated is None and a.suggested is None for a in found.lines)


def test_unreported_scrap_is_told_from_a_wrong_line() -> None:
    scrap = report(plant({"STOOL": {"LEG": "3"}}, {}, intervals=6, losses={3: 900}))
    (a,) = scrap.lines
    assert a.flagged and a.finding == "over_consumption" and a.cause == "unreported_scrap"
    assert "do not follow production" in a.note
    wrong = report(plant({"STOOL": {"LEG": "3"}}, {"STOOL": {"LEG": "3.3"}}, intervals=6))
    (b,) = wrong.lines
    assert b.flagged and b.cause == "wrong_bom_line" and "follows production" in b.note


def test_a_line_the_floor_does_not_use_is_non_consumption() -> None:
    found = report(plant({"STOOL": {"LEG": "3", "CAP": "4"}}, {"STOOL": {"CAP": "0"}},
                         intervals=4))
    lines = {a.line.component: a for a in found.lines}
    assert lines["CAP"].finding == "non_consumption"
    assert lines["CAP"].suggested is not None and lines["CAP"].suggested < D("0.05")
    assert not lines["LEG"].flagged


def test_stock_that_disappears_with_no_bom_line_is_named() -> None:
    glue = ("  - {type: receipt, date: 2026-11-02, item: GLUE, qty: 50, unit_price: 1.00, "
            "id: PO-G}\n  - {type: count, date: 2026-11-20, item: GLUE, qty: 38, id: CC-G}")
    found = report(plant({"STOOL": {"LEG": "3"}}, {}, intervals=3,
                         extra_items="  - {code: GLUE, standard_cost: 1.00}",
                         extra_events=glue))
    (gone,) = found.unexplained
    assert (gone.item, gone.location, gone.consumed, gone.intervals) == ("GLUE", "stores",
                                                                         12, 1)
    assert "12 GLUE disappeared at stores" in gone.note
    assert all(a.line.component != "GLUE" for a in found.lines)


def test_the_window_and_the_tolerance() -> None:
    text = plant(SHARED, WRONG, intervals=8)
    later = report(text, Window(date(2026, 11, 12), None))
    # Counts before the window are not used; the window starts at its first count.
    assert later.lines[0].intervals < 8
    loose = report(text, tolerance=D("0.5"))
    assert not loose.flagged and loose.tolerance == D("0.5")
    with pytest.raises(ValueError, match="tolerance"):
        report(text, tolerance=D("1.5"))


def test_a_report_asked_again_is_kept_until_something_is_posted() -> None:
    from backflush.domain.events import Count
    from backflush.service_layer.posting import post_events

    ledger = memory_ledger()
    assert run_scenario(ledger.unit_of_work(), scenario_from_text(
        plant(SHARED, WRONG, intervals=8))).ok
    with ledger.unit_of_work(read_only=True) as uow:
        first = bom_accuracy(uow)
        assert bom_accuracy(uow) is first  # nothing posted since: the same report
        last = max(s.event.date for s in uow.events.all())
        place = first.lines[0].line.component
        on_hand = uow.stock.on_hand(place, "stores")
    post_events(ledger.unit_of_work(), [Count(id="CC-AGAIN", date=last, item=place,
                                              qty=on_hand + D(500))])
    with ledger.unit_of_work(read_only=True) as uow:
        again = bom_accuracy(uow)
    assert again is not first and again != first  # a count since: worked out afresh
