"""Each alert rule through the posting rules (a fake ledger view, no store): it fires at its
threshold and beyond, not below it, and not at all when switched off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from backflush.domain import rules
from backflush.domain.alerts import AlertThresholds, validate_thresholds
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import Close, Completion, Count, Receipt, Sale
from backflush.domain.items import Item
from backflush.domain.journal import Posting
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import NegativeStock, Policy, Stage, validate_policy
from backflush.domain.rollup import roll_up
from backflush.domain.routing import Operation, WorkCenter
from backflush.domain.valuation import Books
from tests.unit.fakes import FakeView

DAY = date(2026, 11, 2)
CONTROL, APPLIED = "Conversion Costs Control", "Conversion Costs Applied"


def books(policy: Policy | None = None, **alerts: object) -> Books:
    master = MasterData(
        {"SEAT": Item("SEAT", standard_cost=D("5.00")), "LEG": Item("LEG", standard_cost=D(1)),
         "STOOL": Item("STOOL", made=True)},
        Boms.of([BomVersion("STOOL", 1, date(2000, 1, 1),
                            (BomLine("SEAT", D(1)), BomLine("LEG", D(3))))]),
        {"WELD": WorkCenter("WELD", conversion_rate=D(60)),
         "PAINT": WorkCenter("PAINT", conversion_rate=D(30))},
        {"STOOL": (Operation(10, "WELD", D("0.1")),)})
    policy = policy or Policy()
    policy = replace(policy, alerts=replace(policy.alerts, **alerts))  # type: ignore[arg-type]
    assert validate_policy(policy) == []
    return Books(master, policy, roll_up(master, DAY))


def codes(posting: Posting, code: str) -> list[str]:
    return [a.message for a in posting.alerts if a.code == code]


def receipt(price: str) -> Receipt:
    return Receipt(id="R", date=DAY, item="SEAT", qty=D(10), unit_price=D(price))


# ---------------------------------------------------------------- 1. negative stock
def test_negative_stock_fires_when_an_issue_takes_stock_below_zero_and_not_at_zero() -> None:
    view = FakeView(stock={("SEAT", "stores"): D(1), ("LEG", "stores"): D(3)})
    exact = rules.post(books(), view, Completion(id="W", date=DAY, item="STOOL", qty=D(1)))
    assert codes(exact, "negative_stock") == []  # down to zero exactly: not below it
    short = rules.post(books(), view, Completion(id="W", date=DAY, item="STOOL", qty=D(2)))
    [message] = codes(short, "negative_stock")
    assert "SEAT at stores: needs 2, has 1" in message and "LEG at stores: needs 6, has 3" \
        in message
    sale = rules.post(books(), FakeView(), Sale(id="S", date=DAY, item="STOOL", qty=D(1)))
    assert codes(sale, "negative_stock") == ["stock went below zero: STOOL at stores: needs "
                                             "1, has 0"]


def test_negative_stock_switched_off_posts_the_same_without_the_alert() -> None:
    event = Completion(id="W", date=DAY, item="STOOL", qty=D(2))
    on = rules.post(books(), FakeView(), event)
    off = rules.post(books(negative_stock=False), FakeView(), event)
    assert off.entries == on.entries and off.moves == on.moves
    assert codes(off, "negative_stock") == [] and codes(on, "negative_stock")


# ---------------------------------------------------------------- 2. count difference
@pytest.mark.parametrize(("counted", "fires"), [("95", True), ("95.01", False),
                                                ("105", True), ("104.99", False)])
def test_count_difference_fires_at_its_share_of_the_book_quantity(counted: str,
                                                                   fires: bool) -> None:
    view = FakeView(stock={("LEG", "stores"): D(100)})
    posting = rules.post(books(count_difference_pct=D(5)), view,
                         Count(id="C", date=DAY, item="LEG", qty=D(counted)))
    found = codes(posting, "count_difference")
    assert bool(found) is fires
    if fires:
        diff = D(counted) - 100
        assert found == [f"LEG at stores: {counted} counted against 100 on the books, a "
                         f"difference of {diff:f} ({diff:f}.00 %; threshold 5.00 % of the "
                         "book quantity)".replace("+", "")]


def test_a_count_with_nothing_on_the_books_fires_whatever_the_threshold_and_off_never() -> None:
    count = Count(id="C", date=DAY, item="LEG", qty=D(4))
    found = codes(rules.post(books(count_difference_pct=D(1000)), FakeView(), count),
                  "count_difference")
    assert found and "no stock on the books" in found[0]
    assert codes(rules.post(books(count_difference_pct=None), FakeView(), count),
                 "count_difference") == []


# ---------------------------------------------------------------- 3. purchase price variance
@pytest.mark.parametrize(("price", "fires"), [("5.25", True), ("5.2499", False),
                                              ("4.75", True), ("4.7501", False),
                                              ("5.00", False)])
def test_purchase_price_variance_fires_at_its_share_of_standard(price: str,
                                                                fires: bool) -> None:
    posting = rules.post(books(purchase_price_variance_pct=D(5)), FakeView(), receipt(price))
    found = codes(posting, "purchase_price_variance")
    assert bool(found) is fires
    if price == "5.25":
        assert found == ["SEAT received at 5.25 against standard 5.00: +5.00 % on 10 "
                         "received (threshold 5.00 %)"]


def test_purchase_price_variance_off_and_at_zero() -> None:
    assert codes(rules.post(books(purchase_price_variance_pct=None), FakeView(),
                            receipt("9")), "purchase_price_variance") == []
    found = codes(rules.post(books(purchase_price_variance_pct=D(0)), FakeView(),
                             receipt("5.01")), "purchase_price_variance")
    assert len(found) == 1  # 0 %: any difference (and none when on standard, above)


# ---------------------------------------------------------------- 4. pending queue age
def queued(latest: date | None) -> FakeView:
    return FakeView(parked={("SEAT", "stores"): [("WO-1", D(2))]},
                    since={"WO-1": date(2026, 11, 2)}, latest=latest)


def later(day: int) -> Sale:
    return Sale(id="S", date=date(2026, 11, day), item="STOOL", qty=D(1))


def test_pending_age_fires_once_by_the_event_that_makes_an_issue_that_old() -> None:
    view = queued(date(2026, 11, 8))  # the issue is 6 days old
    policy_books = books(pending_age_days=7)
    assert codes(rules.post(policy_books, view, later(8)), "pending_age") == []
    [message] = codes(rules.post(policy_books, view, later(9)), "pending_age")
    assert message == ("WO-1's issue of SEAT at stores has been pending 7 days, since "
                       "2026-11-02 (threshold 7 days)")
    # Once 7 days old before the event, it was flagged then: not again.
    assert codes(rules.post(policy_books, queued(date(2026, 11, 9)), later(12)),
                 "pending_age") == []
    assert codes(rules.post(books(pending_age_days=None), view, later(20)),
                 "pending_age") == []


def test_an_issue_parked_already_that_old_is_flagged_by_its_completion() -> None:
    policy = Policy(negative_stock=NegativeStock.QUEUE)
    view = FakeView(latest=date(2026, 11, 20))
    posting = rules.post(books(policy, pending_age_days=7), view,
                         Completion(id="WO-2", date=DAY, item="STOOL", qty=D(1)))
    assert posting.pending and [m.split(" has")[0] for m in codes(posting, "pending_age")] \
        == ["WO-2's issue of LEG at stores", "WO-2's issue of SEAT at stores"]


def test_an_issue_the_event_clears_is_not_flagged() -> None:
    view = queued(date(2026, 11, 8))
    posting = rules.post(books(pending_age_days=7), view, Receipt(
        id="R", date=date(2026, 11, 10), item="SEAT", qty=D(2), unit_price=D(5)))
    assert posting.pending and codes(posting, "pending_age") == []


# ---------------------------------------------------------------- 5. under/over-applied
@pytest.mark.parametrize(("control", "fires"), [("1050.00", True), ("1049.99", False),
                                                ("950.00", True), ("950.01", False)])
def test_under_over_applied_fires_at_its_share_of_applied_at_the_close(control: str,
                                                                       fires: bool) -> None:
    view = FakeView(accounts={CONTROL: D(control), APPLIED: D(-1000)})
    posting = rules.post(books(under_over_applied_pct=D(5)), view, Close(
        id="close", date=date(2026, 11, 30), period="2026-11"))
    found = codes(posting, "under_over_applied")
    assert bool(found) is fires
    if control == "1050.00":
        assert found == ["2026-11: conversion under-applied by 50.00 (Control 1050.00 - "
                         "Applied 1000; 5.00 % of applied; threshold 5.00 %)"]
    if control == "950.00":
        assert "over-applied by 50.00" in found[0]


def test_under_over_applied_off() -> None:
    view = FakeView(accounts={CONTROL: D(5000), APPLIED: D(-1000)})
    assert codes(rules.post(books(under_over_applied_pct=None), view, Close(
        id="close", date=date(2026, 11, 30), period="2026-11")), "under_over_applied") == []


# ---------------------------------------------------------------- 6. price not recordable
def test_an_off_standard_receipt_without_the_purchase_trigger_alerts_at_any_difference() -> None:
    policy = Policy(triggers=frozenset({Stage.COMPLETION, Stage.SALE}))
    [message] = codes(rules.post(books(policy), FakeView(), receipt("5.01")),
                      "price_variance_not_recorded")
    assert message.startswith("SEAT received at 5.01 against standard 5.00: +0.20 %")
    assert "not a trigger point under {C,D}" in message
    assert rules.post(books(policy), FakeView(), receipt("5.00")).alerts == ()
    assert rules.post(books(policy, price_variance_not_recorded=False), FakeView(),
                      receipt("9")).alerts == ()
    # ... and the price variance rule is for where the variance is booked: no second alert
    assert [a.code for a in rules.post(books(policy), FakeView(), receipt("9")).alerts] == [
        "price_variance_not_recorded"]


# ---------------------------------------------------------------- 7. hours off the routing
def test_hours_at_a_work_center_the_routing_does_not_use_alert_unless_switched_off() -> None:
    on_routing = Completion(id="W", date=DAY, item="STOOL", qty=D(10),
                            hours=(("WELD", D(2)),))
    off_routing = replace(on_routing, hours=(("WELD", D(1)), ("PAINT", D("0.5"))))
    view = FakeView(stock={("SEAT", "stores"): D(100), ("LEG", "stores"): D(100)})
    assert rules.post(books(), view, on_routing).alerts == ()
    [message] = codes(rules.post(books(), view, off_routing), "hours_off_routing")
    assert message.startswith("STOOL's routing does not use PAINT (0.5 h)")
    assert rules.post(books(hours_off_routing=False), view, off_routing).alerts == ()


# ---------------------------------------------------------------- the thresholds
@pytest.mark.parametrize(("field", "value"), [
    ("count_difference_pct", D(-1)), ("purchase_price_variance_pct", D(1001)),
    ("under_over_applied_pct", D("NaN")), ("pending_age_days", -1),
    ("pending_age_days", 4000), ("pending_age_days", True), ("negative_stock", "yes")])
def test_a_threshold_out_of_range_is_refused_by_name(field: str, value: object) -> None:
    [problem] = validate_thresholds(replace(AlertThresholds(), **{field: value}))
    assert problem.field == f"alerts.{field}"


def test_thresholds_round_trip_through_their_settings() -> None:
    t = AlertThresholds(count_difference_pct=D("2.5"), pending_age_days=None,
                        hours_off_routing=False)
    assert AlertThresholds.from_settings(t.settings()) == t
    assert AlertThresholds.from_settings({}) == AlertThresholds()
