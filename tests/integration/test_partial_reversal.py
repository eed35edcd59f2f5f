"""Partial reversals (issue 16, item 4): a reversal with ``qty`` takes back that many units of
a completion, sale or receipt, to the cent; several parts never more than the original had;
the rest reverses what is left; originals in a closed period are reversed in the open one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.domain.errors import PeriodLockedError, PostingError
from backflush.domain.events import Reversal
from backflush.service_layer import reports
from backflush.service_layer.posting import post_events
from tests.harness import state_of
from tests.support import Run

pytestmark = pytest.mark.usefixtures("backend")

RIP, FG, COGS = "Raw and In-Process Inventory", "Finished Goods Inventory", "Cost of Goods Sold"
AP, PPV, SCRAP = "Accounts Payable", "Purchase Price Variance", "Scrap Variance"
APPLIED, AR, SALES = "Conversion Costs Applied", "Accounts Receivable", "Sales Revenue"

STOOL = """
format: 1
policy: {policy}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
{events}
"""
ACD = "{trigger_points: [purchase, completion, sale]}"
STOCK = ("{type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.00, id: P1}",
         "{type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.00, id: P2}")


def stool(*events: str, policy: str = ACD) -> Run:
    r = Run(STOOL.format(policy=policy, events="\n".join(f"  - {e}" for e in events)))
    assert r.outcome.ok, r.outcome.errors
    assert r.verify() == []
    return r


def reverse(r: Run, event_id: str, of: str, qty: str | None = None,
            day: date = date(2026, 11, 20)) -> None:
    post_events(r.store.unit_of_work(), [
        Reversal(id=event_id, date=day, of=of, qty=None if qty is None else D(qty))])


def reversals_of(r: Run, event_id: str) -> list[tuple[str, D]]:
    with r.ledger.uow() as uow:
        return list(uow.events.reversals_of(event_id))


def test_a_partial_reversal_of_a_completion_takes_back_its_share_scrap_included() -> None:
    r = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, "
              "scrap_qty: 2, id: W1}",
              "{type: reversal, date: 2026-11-04, of: W1, qty: 5, reason: miscounted, id: X1}")
    # W1: 12 stools' worth backflushed (60 seats + 36 legs = 96), conversion on 12 (72);
    # 10 to FG (140), 2 scrapped (28). Half of it comes back, scrap in proportion.
    assert r.entry_lines("W1") == {FG: D(140), SCRAP: D(28), RIP: D(-96), APPLIED: D(-72)}
    assert r.entry_lines("X1") == {FG: D(-70), SCRAP: D(-14), RIP: D(48), APPLIED: D(36)}
    assert r.stock() == {("SEAT", "stores"): "94", ("LEG", "stores"): "282",
                         ("STOOL", "stores"): "5"}
    assert reversals_of(r, "W1") == [("X1", D(5))]
    [entry] = [s.entry for s in r.ledger.entries_of("X1")]
    assert entry.description == "Reversal of W1 (completion): 5 of 10"


def test_it_is_what_the_original_with_that_quantity_would_have_posted_negated() -> None:
    whole = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 8, "
                  "scrap_qty: 2, id: W1}",
                  "{type: reversal, date: 2026-11-04, of: W1, qty: 2, id: X1}")
    reversed_part = whole.entry_lines("X1")  # (read first: on PostgreSQL the next run
    smaller = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 2, "
                    "scrap_qty: 0.5, id: W1}")  # takes the same test schema)
    assert reversed_part == {k: -v for k, v in smaller.entry_lines("W1").items()}


def test_a_partial_reversal_of_a_sale_to_the_cent() -> None:
    r = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: sale, date: 2026-11-04, item: STOOL, qty: 8, unit_price: 25.99, id: S1}",
              "{type: reversal, date: 2026-11-05, of: S1, qty: 3, id: X1}")
    assert r.entry_lines("S1") == {COGS: D(112), FG: D(-112), AR: D("207.92"),
                                   SALES: D("-207.92")}
    assert r.entry_lines("X1") == {COGS: D(-42), FG: D(42), AR: D("-77.97"),
                                   SALES: D("77.97")}
    assert r.stock()[("STOOL", "stores")] == "5"


def test_parts_of_a_receipt_add_up_to_the_whole_to_the_cent() -> None:
    # 7 at 5.1234: payable 35.86, price variance 0.86. In parts of 2, 2 and the rest (3),
    # each the difference of the shares rounded at both ends: nothing is left at the end.
    r = stool("{type: receipt, date: 2026-11-02, item: SEAT, qty: 7, unit_price: 5.1234, "
              "id: P1}",
              "{type: reversal, date: 2026-11-03, of: P1, qty: 2, id: X1}",
              "{type: reversal, date: 2026-11-03, of: P1, qty: 2, id: X2}",
              "{type: reversal, date: 2026-11-04, of: P1, id: X3}")
    assert r.entry_lines("P1") == {RIP: D(35), PPV: D("0.86"), AP: D("-35.86")}
    assert r.entry_lines("X1") == {RIP: D(-10), PPV: D("-0.25"), AP: D("10.25")}
    assert r.entry_lines("X2") == {RIP: D(-10), PPV: D("-0.24"), AP: D("10.24")}
    assert r.entry_lines("X3") == {RIP: D(-15), PPV: D("-0.37"), AP: D("15.37")}
    assert {k: v for k, v in r.ledger.balances().items() if v} == {}
    assert r.stock() == {}
    assert reversals_of(r, "P1") == [("X1", D(2)), ("X2", D(2)), ("X3", D(3))]
    with r.ledger.uow() as uow:
        assert uow.events.get("P1").reversed_by == "X3"  # type: ignore[union-attr]


def test_two_parts_then_an_over_reversal_is_refused_naming_what_is_left() -> None:
    r = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 38, id: WO-7-C1}",
              "{type: reversal, date: 2026-11-04, of: WO-7-C1, qty: 5, id: X1}",
              "{type: reversal, date: 2026-11-04, of: WO-7-C1, qty: 30, id: X2}")
    before = state_of(r.ledger)
    with pytest.raises(PostingError) as refused:
        reverse(r, "X3", "WO-7-C1", "4")
    assert str(refused.value.field) == "qty"
    assert "cannot reverse 4 of 'WO-7-C1': it is a completion of 38 STOOL; 35 reversed " \
           "already (X1 5, X2 30); 3 left" in str(refused.value)
    assert state_of(r.ledger) == before  # nothing posted
    assert reversals_of(r, "WO-7-C1") == [("X1", D(5)), ("X2", D(30))]
    reverse(r, "X3", "WO-7-C1")  # without qty: the 3 left
    assert r.entry_lines("X3") == {FG: D(-42), RIP: D(24), APPLIED: D(18)}
    assert r.stock() == {("SEAT", "stores"): "100", ("LEG", "stores"): "300"}
    with pytest.raises(PostingError, match=r"'WO-7-C1' was already reversed by 'X3' \(in "
                       r"full: 38 of 38 reversed, by X1 5, X2 30, X3 3; nothing left\)"):
        reverse(r, "X4", "WO-7-C1", "1")


def test_qty_on_an_event_without_one_is_refused_and_nothing_is_posted() -> None:
    r = stool(*STOCK, "{type: conversion_incurred, date: 2026-11-03, amount: 100, id: C1}")
    before = state_of(r.ledger)
    with pytest.raises(PostingError, match="a conversion_incurred cannot be reversed in part; "
                       "leave out qty to reverse 'C1' whole"):
        reverse(r, "X1", "C1", "1")
    assert state_of(r.ledger) == before


def test_a_partial_reversal_of_a_summarised_completion_takes_its_share() -> None:
    events = (*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 7, id: W2}",
              "{type: reversal, date: 2026-11-04, of: W1, qty: 4, id: X1}")
    summary = stool(*events, policy="{trigger_points: [purchase, completion, sale], "
                    "journal: summary}")
    assert summary.entry_lines("W1") == {}  # in the day's summary entry
    assert summary.entry_lines("X1") == {FG: D(-56), RIP: D(32), APPLIED: D(24)}
    per_event = stool(*events)
    assert summary.entry_lines("X1") == per_event.entry_lines("X1")
    assert summary.stock() == per_event.stock()
    with summary.ledger.uow() as uow:
        explained = reports.explain(uow, "W1")
    assert explained is not None and explained.reversals == (("X1", D(4)),)


def test_an_original_in_a_closed_period_is_reversed_in_the_open_one_dated_itself() -> None:
    r = stool(*STOCK, "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: close, period: 2026-11}")
    before = state_of(r.ledger)
    with pytest.raises(PeriodLockedError, match="closed period"):
        reverse(r, "X1", "W1", "4", day=date(2026, 11, 30))
    assert state_of(r.ledger) == before
    reverse(r, "X1", "W1", "4", day=date(2026, 12, 2))
    [entry] = [s.entry for s in r.ledger.entries_of("X1")]
    assert entry.date == date(2026, 12, 2)
    assert r.entry_lines("X1") == {FG: D(-56), RIP: D(32), APPLIED: D(24)}
    assert r.ledger.balance(FG, date(2026, 11, 30)) == D(140)  # November stays as closed
    assert r.verify() == []


QUEUED = "{trigger_points: [purchase, completion, sale], negative_stock: queue}"


def test_a_partial_reversal_of_a_queued_completion_unparks_first() -> None:
    # 4 seats on hand for 10 stools: 4 issued, 6 parked. Half reversed: 3 of the parked
    # issues are dropped and 2 of the seats issued come back (5 stools want 5: 2 + 3).
    r = stool("{type: receipt, date: 2026-11-02, item: SEAT, qty: 4, unit_price: 5.00, id: P1}",
              "{type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.00, "
              "id: P2}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: reversal, date: 2026-11-04, of: W1, qty: 5, id: X1}", policy=QUEUED)
    assert r.ledger.pending_at("SEAT", "stores") == (("W1", D(3)),)
    assert r.stock()[("SEAT", "stores")] == "2"
    assert r.stock()[("LEG", "stores")] == "285"


def test_reversing_a_receipt_that_cleared_a_partly_reversed_completion_reparks_its_need() -> None:
    # W1 parks 6 seats; P3 clears them; W1 is half reversed (the 3 seats it no longer
    # wants come back from stock); then P3 is reversed: W1 still wants 3 of the 6 P3 issued,
    # so 3 are parked again, and only those come back to stock with P3's 10 taken away.
    r = stool("{type: receipt, date: 2026-11-02, item: SEAT, qty: 4, unit_price: 5.00, id: P1}",
              "{type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.00, "
              "id: P2}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: receipt, date: 2026-11-04, item: SEAT, qty: 10, unit_price: 5.00, "
              "id: P3}",
              "{type: reversal, date: 2026-11-05, of: W1, qty: 5, id: X1}",
              "{type: reversal, date: 2026-11-06, of: P3, id: X2}", policy=QUEUED)
    assert r.ledger.pending_at("SEAT", "stores") == (("W1", D(3)),)
    assert r.stock()[("SEAT", "stores")] == "2"  # 5 stools: 2 issued, 3 parked
    assert r.stock()[("STOOL", "stores")] == "5"
