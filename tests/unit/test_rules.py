"""The posting rules on their own: events against a fake ledger view, no store at all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.domain import rules
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.errors import NegativeStockError, PeriodLockedError, PostingError
from backflush.domain.events import Completion, Count, Receipt, Sale, Scrap
from backflush.domain.items import Item
from backflush.domain.journal import Posting
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import NegativeStock, Policy, Stage
from backflush.domain.rollup import roll_up
from backflush.domain.valuation import Books
from tests.unit.fakes import FakeView

DAY = date(2026, 11, 2)
RIP, FG, AP, PPV = ("Raw and In-Process Inventory", "Finished Goods Inventory",
                    "Accounts Payable", "Purchase Price Variance")
ROUNDING, PENDING = "Rounding Differences", "Pending Backflush Clearing"


def books(policy: Policy | None = None, seat: str = "5.00") -> Books:
    master = MasterData(
        {"SEAT": Item("SEAT", standard_cost=D(seat)), "LEG": Item("LEG", standard_cost=D("1")),
         "STOOL": Item("STOOL", made=True, conversion_cost=D("6.00"))},
        Boms.of([BomVersion("STOOL", 1, date(2000, 1, 1),
                            (BomLine("SEAT", D(1)), BomLine("LEG", D(3))))]))
    return Books(master, policy or Policy(), roll_up(master, DAY))


def net(posting: Posting) -> dict[str, D]:
    out: dict[str, D] = {}
    for entry in posting.entries:
        assert entry.balanced
        for ln in entry.lines:
            out[ln.account] = out.get(ln.account, D(0)) + ln.net
    return {k: v for k, v in out.items() if v}


def test_a_receipt_off_standard_books_the_price_variance_of_the_quantity() -> None:
    posting = rules.post(books(), FakeView(), Receipt(id="R", date=DAY, item="SEAT",
                                                      qty=D(10), unit_price=D("5.10")))
    assert net(posting) == {RIP: D(50), PPV: D(1), AP: D(-51)}
    assert posting.moves[0].qty == D(10)


def test_a_sub_cent_standard_leaves_a_rounding_cent_not_a_price_variance() -> None:
    # 0.5 on hand at 0.015 is valued 0.01 (0.0075 rounded); 1 more makes 1.5 x 0.015 = 0.0225,
    # valued 0.02: the stock line is +0.01, the standard of the quantity 0.015 -> 0.02.
    view = FakeView(stock={("SEAT", "stores"): D("0.5")})
    posting = rules.post(books(seat="0.015"), view, Receipt(
        id="R", date=DAY, item="SEAT", qty=D(1), unit_price=D("0.02")))
    assert net(posting) == {RIP: D("0.01"), AP: D("-0.02"), ROUNDING: D("0.01")}


def test_a_completion_backflushes_one_level_and_applies_its_conversion() -> None:
    view = FakeView(stock={("SEAT", "stores"): D(10), ("LEG", "stores"): D(30)})
    posting = rules.post(books(), view, Completion(id="W", date=DAY, item="STOOL", qty=D(10)))
    assert net(posting) == {FG: D(140), RIP: D(-80), "Conversion Costs Applied": D(-60)}
    assert {(m.item, m.qty) for m in posting.moves} == {
        ("SEAT", D(-10)), ("LEG", D(-30)), ("STOOL", D(10))}


@pytest.mark.parametrize("policy", list(NegativeStock))
def test_a_completion_short_of_stock_follows_the_negative_stock_policy(
        policy: NegativeStock) -> None:
    view = FakeView(stock={("SEAT", "stores"): D(4), ("LEG", "stores"): D(30)})
    event = Completion(id="W", date=DAY, item="STOOL", qty=D(10))
    if policy is NegativeStock.REJECT:
        with pytest.raises(NegativeStockError, match="SEAT at stores: needs 10, has 4"):
            rules.post(books(Policy(negative_stock=policy)), view, event)
        return
    posting = rules.post(books(Policy(negative_stock=policy)), view, event)
    seat = sum((m.qty for m in posting.moves if m.item == "SEAT"), D(0))
    if policy is NegativeStock.ALLOW:
        assert seat == D(-10) and posting.alerts[0].code == "negative_stock"
        assert net(posting)[RIP] == D(-80)
    else:  # queue: 4 issued, 6 parked against the clearing account
        assert seat == D(-4) and [(p.item, p.qty) for p in posting.pending] == [("SEAT", D(6))]
        assert net(posting)[PENDING] == D(-30) and net(posting)[RIP] == D(-50)
        assert [a.code for a in posting.alerts] == ["queued"]


def test_a_closed_period_and_a_date_before_the_ledger_are_refused() -> None:
    event = Sale(id="S", date=DAY, item="STOOL", qty=D(1))
    with pytest.raises(PeriodLockedError):
        rules.post(books(), FakeView(locked_through=date(2026, 11, 30)), event)
    with pytest.raises(PostingError, match="before the ledger's first day"):
        rules.post(books(), FakeView(opened_on=date(2026, 12, 1)), event)


def test_an_unknown_item_and_a_phantom_are_refused_by_name() -> None:
    with pytest.raises(PostingError, match="unknown item 'NOPE'"):
        rules.post(books(), FakeView(), Scrap(id="X", date=DAY, item="NOPE", qty=D(1)))


def test_a_count_posts_the_difference_as_usage_and_points_at_the_bom_line() -> None:
    view = FakeView(stock={("LEG", "stores"): D(100)}, used={"LEG": {"STOOL": D(300)}})
    posting = rules.post(books(), view, Count(id="C", date=DAY, item="LEG", qty=D(70)))
    assert net(posting) == {RIP: D(-30), "Material Usage Variance": D(30)}
    [finding] = posting.findings
    assert (finding.parent, finding.component, finding.suggested_qty) == ("STOOL", "LEG",
                                                                          D("3.3"))


def test_without_the_purchase_trigger_a_receipt_moves_stock_only_and_alerts() -> None:
    policy = Policy(triggers=frozenset({Stage.COMPLETION, Stage.SALE}))
    posting = rules.post(books(policy), FakeView(), Receipt(id="R", date=DAY, item="SEAT",
                                                            qty=D(1), unit_price=D(6)))
    assert posting.entries == () and [a.code for a in posting.alerts] == [
        "price_variance_not_recorded"]
