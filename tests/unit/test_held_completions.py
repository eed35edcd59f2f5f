"""The failed-backflush queue (issue 16, item 2): under ``failed_backflush: hold`` a
completion that cannot post yet (short stock where an item rejects, a closed period, an
unknown item or work center) is held unposted with its reason instead of refusing its batch;
the queue lists it beside the parked issues, it blocks the close of its period (or only
warns, when its period is closed already), a retry posts what can post now, and nothing is
ever lost. Under the default (``refuse``) nothing changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import PostingError
from backflush.domain.events import Close, Completion, Receipt
from backflush.service_layer.posting import post_events
from backflush.service_layer.queue import queue, retry_held
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
policy: {{failed_backflush: {mode}}}
items:
  - {{code: SEAT, standard_cost: 5.00, negative_stock: reject}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 5, unit_price: 5.00, id: PO-1}}
"""


def ledger(mode: str = "hold"):  # type: ignore[no-untyped-def]
    book = memory_ledger()
    assert run_scenario(book.unit_of_work(), scenario_from_text(PLANT.format(mode=mode))).ok
    return book


def rows(book) -> list[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    with book.unit_of_work(read_only=True) as uow:
        return [(p.event, p.reason, p.blocks_close) for p in queue(uow)]


def entries(book) -> int:  # type: ignore[no-untyped-def]
    with book.unit_of_work(read_only=True) as uow:
        return len(list(uow.journal.entries()))


def completion(ident: str, qty: int, day: int = 5, **more: object) -> Completion:
    return Completion(id=ident, date=date(2026, 11, day), item="STOOL", qty=D(qty),
                      **more)  # type: ignore[arg-type]


def test_short_stock_is_held_with_its_batch_posted_and_retried_when_stock_arrives() -> None:
    book = ledger()
    before = entries(book)
    result = post_events(book.unit_of_work(), [completion("WO-1", 8), completion("WO-2", 2)])
    assert result.held == ["WO-1"] and result.posted == 1  # WO-2 posted; WO-1 kept
    assert entries(book) == before + 1
    assert rows(book) == [("WO-1", "short stock", True)]
    # Posted again by the MES (a retry): the same content is a duplicate, other a refusal.
    again = post_events(book.unit_of_work(), [completion("WO-1", 8)])
    assert again.duplicates == 1 and again.held == []
    with pytest.raises(PostingError, match="differ"):
        post_events(book.unit_of_work(), [completion("WO-1", 9)])
    # Still short: a retry keeps it, with why.
    done = retry_held(book.unit_of_work())
    assert done.posted == [] and [p.reason for p in done.still] == ["short stock"]
    post_events(book.unit_of_work(), [Receipt(id="PO-2", date=date(2026, 11, 6), item="SEAT",
                                              qty=D(10), unit_price=D(5))])
    done = retry_held(book.unit_of_work())
    assert done.posted == ["WO-1"] and done.still == [] and rows(book) == []
    with book.unit_of_work(read_only=True) as uow:
        assert uow.events.get("WO-1") is not None
        assert uow.stock.on_hand("SEAT", "stores") == 5 + 10 - 2 - 8


def test_a_held_completion_blocks_the_close_until_it_posts() -> None:
    book = ledger()
    post_events(book.unit_of_work(), [completion("WO-1", 8)])
    with pytest.raises(PostingError, match=r"1 completion held unposted \(WO-1"):
        post_events(book.unit_of_work(), [Close(id="C-11", date=date(2026, 11, 30),
                                                period="2026-11")])
    forced = post_events(book.unit_of_work(), [Close(id="C-11", date=date(2026, 11, 30),
                                                     period="2026-11", force=True)])
    assert forced.posted == 1
    # Closed by force: still held (short stock); once stock comes, a retry posts it on the
    # first open day.
    assert rows(book) == [("WO-1", "short stock", True)]
    post_events(book.unit_of_work(), [Receipt(id="PO-2", date=date(2026, 12, 1), item="SEAT",
                                              qty=D(10), unit_price=D(5))])
    done = retry_held(book.unit_of_work())
    assert done.posted == ["WO-1"]
    with book.unit_of_work(read_only=True) as uow:
        assert uow.events.get("WO-1").event.date == date(2026, 12, 1)  # type: ignore[union-attr]


def test_a_completion_in_a_closed_period_is_held_and_only_warns() -> None:
    book = ledger()
    post_events(book.unit_of_work(), [Close(id="C-11", date=date(2026, 11, 30),
                                            period="2026-11")])
    result = post_events(book.unit_of_work(), [completion("WO-LATE", 1, day=20)])
    assert result.held == ["WO-LATE"]
    assert rows(book) == [("WO-LATE", "closed period", False)]
    done = retry_held(book.unit_of_work(), today=date(2026, 12, 3))
    assert done.posted == ["WO-LATE"]
    with book.unit_of_work(read_only=True) as uow:
        assert uow.events.get("WO-LATE").event.date == date(2026, 12, 3)  # type: ignore[union-attr]


def test_an_unknown_work_center_is_held_as_unknown() -> None:
    book = ledger()
    result = post_events(book.unit_of_work(), [completion("WO-3", 1, hours=(("NOPE", D(1)),))])
    assert result.held == ["WO-3"] and rows(book) == [("WO-3", "unknown item or unit", True)]


def test_under_the_default_a_completion_that_cannot_post_refuses_its_batch() -> None:
    book = ledger("refuse")
    before = entries(book)
    with pytest.raises(PostingError, match="SEAT at stores: needs 8, has 3"):
        post_events(book.unit_of_work(), [completion("WO-2", 2), completion("WO-1", 8)])
    assert entries(book) == before and rows(book) == []


def test_other_refusals_are_never_held() -> None:
    book = ledger()
    with pytest.raises(PostingError, match="purchased item"):
        post_events(book.unit_of_work(), [Completion(id="W", date=date(2026, 11, 5),
                                                     item="SEAT", qty=D(1))])
    assert rows(book) == []
