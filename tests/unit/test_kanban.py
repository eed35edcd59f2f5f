"""Supermarkets and kanban (issue 16, item 1): released orders keep an open quantity, the
kanban quantity follows releases, completions, transfers, signals and reversals step by
step, signals close oldest first, and bad kanban input is refused with nothing posted.

The plant: stools need 3 legs each, drawn from the line-side supermarket line-1 (containers
of 10); seats come from stores. Caster wheels are a second supermarket item at line-2,
needed by the chair (a phantom base kit explodes into them).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import BackflushError, ValidationError
from backflush.domain.events import Event, Reversal
from backflush.domain.kanban import Supermarket, kanban_line, sizing
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer import kanban
from backflush.service_layer.posting import post_events
from backflush.service_layer.replenishing import send_signals
from backflush.service_layer.scenario import run_scenario

PLANT = """\
format: 1
name: Stools and chairs, line side
kanban:
  - {item: LEG, location: line-1, container_qty: 10, lead_time_days: 2, safety: 0.25}
  - {item: CASTER, location: line-2, container_qty: 50}
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00, backflush_from: line-1, negative_stock: queue}
  - {code: CASTER, standard_cost: 0.50}
  - {code: KIT, phantom: true}
  - {code: STOOL, conversion_cost: 6.00}
  - {code: CHAIR, conversion_cost: 9.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
  KIT: [{item: CASTER, qty: 5}]
  CHAIR: [{item: SEAT, qty: 1}, {item: KIT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 500, unit_price: 5.00, id: PO-1}
  - {type: receipt, date: 2026-11-02, item: LEG, qty: 1000, unit_price: 1.00, id: PO-2}
  - {type: receipt, date: 2026-11-02, item: CASTER, qty: 1000, unit_price: 0.50, id: PO-3,
     location: line-2}
"""


def ledger():  # type: ignore[no-untyped-def]
    book = memory_ledger()
    outcome = run_scenario(book.unit_of_work(), scenario_from_text(PLANT))
    assert outcome.ok, outcome.errors
    return book


def post(book, text: str) -> None:  # type: ignore[no-untyped-def]
    """Post the events of a YAML list (in the plant's master data)."""
    scenario = scenario_from_text(PLANT.replace("events:\n", "events:\n" + text, 1))
    events = [located.event for located in scenario.events][:text.count("{type:")]
    post_events(book.unit_of_work(), events)


def reverse(book, ident: str, of: str, day: int) -> None:  # type: ignore[no-untyped-def]
    post_events(book.unit_of_work(), [Reversal(id=ident, date=date(2026, 11, day), of=of)])


def line(book, item: str = "LEG", location: str = "line-1"):  # type: ignore[no-untyped-def]
    with book.unit_of_work(read_only=True) as uow:
        (found,) = [ln for ln in kanban.kanban(uow) if (ln.item, ln.location) ==
                    (item, location)]
        return (found.on_hand, found.demand, found.open_signals, found.replenish_qty,
                found.containers)


def test_the_kanban_quantity_follows_the_floor_step_by_step() -> None:
    book = ledger()
    assert line(book) == (0, 0, 0, 0, 0)
    # 40 stools released: 120 legs of demand, none at line-1: 12 containers to send.
    post(book, "  - {type: release, id: WO-7, date: 2026-11-03, item: STOOL, qty: 40}\n")
    assert line(book) == (0, 120, 0, 120, 12)
    # 25 legs moved to the supermarket: 95 short, rounded up to 10 containers.
    post(book, "  - {type: transfer, id: TR-1, date: 2026-11-03, item: LEG, qty: 25, "
               "from: stores, to: line-1}\n")
    assert line(book) == (25, 120, 0, 100, 10)
    # A card for 50 sent to stores: open signals count against the need.
    post(book, "  - {type: signal, id: KB-1, date: 2026-11-03, item: LEG, location: line-1, "
               "qty: 50}\n")
    assert line(book) == (25, 120, 50, 50, 5)
    # 8 stools completed against the order (1 more scrapped): 27 legs backflushed from
    # line-1, 25 there and 2 parked (LEG queues); 9 units off the order: 31 x 3 = 93 of
    # demand, and the 2 owed to C1 on top.
    post(book, "  - {type: completion, id: C1, date: 2026-11-05, item: STOOL, qty: 8, "
               "scrap_qty: 1, order: WO-7}\n")
    assert line(book) == (0, 95, 50, 50, 5)
    # 30 legs arrive: 2 go to C1's parked issue; they fill 30 of the open card, 20 open.
    post(book, "  - {type: transfer, id: TR-2, date: 2026-11-05, item: LEG, qty: 30, "
               "from: stores, to: line-1}\n")
    assert line(book) == (28, 93, 20, 50, 5)
    # The completion reversed: its legs come back to line-1, its units back on the order.
    reverse(book, "R1", "C1", 6)
    assert line(book) == (55, 120, 20, 50, 5)
    # The rest of the order completed without naming it: the order stays open (the floor
    # only knows what names the order), legs are drawn all the same.
    post(book, "  - {type: completion, id: C2, date: 2026-11-06, item: STOOL, qty: 5}\n")
    assert line(book) == (40, 120, 20, 60, 6)


def test_an_order_never_goes_below_zero_and_other_items_leave_it_alone() -> None:
    book = ledger()
    post(book, "  - {type: release, id: WO-1, date: 2026-11-03, item: STOOL, qty: 10}\n"
               "  - {type: completion, id: C1, date: 2026-11-04, item: STOOL, qty: 12, "
               "order: WO-1}\n"
               "  - {type: completion, id: C2, date: 2026-11-04, item: CHAIR, qty: 2, "
               "order: WO-1}\n")
    with book.unit_of_work(read_only=True) as uow:
        assert uow.floor.order("WO-1") == ("STOOL", D(0))
        assert uow.floor.open_totals() == {}
    # No open order left; the 36 legs C1 could not take from line-1 are owed there.
    assert line(book)[1] == 36


def test_demand_explodes_through_phantoms_to_the_supermarket_it_is_drawn_from() -> None:
    book = ledger()
    post(book, "  - {type: release, id: WO-2, date: 2026-11-03, item: CHAIR, qty: 30}\n")
    # 30 chairs x 1 kit x 5 casters = 150 needed, 1,000 on hand at line-2.
    assert line(book, "CASTER", "line-2") == (1000, 150, 0, 0, 0)
    assert line(book)[1] == 0  # chairs need no legs


def test_signals_fill_oldest_first_and_a_reversed_signal_is_cancelled() -> None:
    book = ledger()
    post(book, "  - {type: signal, id: KB-1, date: 2026-11-03, item: LEG, location: line-1, "
               "qty: 20}\n"
               "  - {type: signal, id: KB-2, date: 2026-11-04, item: LEG, location: line-1, "
               "qty: 20}\n"
               "  - {type: transfer, id: TR-1, date: 2026-11-05, item: LEG, qty: 25, "
               "from: stores, to: line-1}\n")
    with book.unit_of_work(read_only=True) as uow:
        assert uow.floor.signals_at("LEG", "line-1") == [("KB-2", D(15))]
    reverse(book, "R2", "KB-2", 5)
    with book.unit_of_work(read_only=True) as uow:
        assert uow.floor.signals_at("LEG", "line-1") == []
        assert kanban.open_signals(uow) == {}
    # Reversing the transfer reopens what it filled (KB-1 in full, 5 of KB-2 — which was
    # cancelled only for what was open, so 5 come back to it).
    reverse(book, "R3", "TR-1", 6)
    with book.unit_of_work(read_only=True) as uow:
        assert uow.floor.signals_at("LEG", "line-1") == [("KB-1", D(20)), ("KB-2", D(5))]


def test_send_signals_posts_a_card_for_each_short_supermarket() -> None:
    book = ledger()
    post(book, "  - {type: release, id: WO-7, date: 2026-11-03, item: STOOL, qty: 40}\n")
    sent = send_signals(book.unit_of_work())
    assert [(s.id, s.item, s.location, s.qty, s.date) for s in sent] == [
        ("KB-2026-11-03-LEG@line-1", "LEG", "line-1", D(120), date(2026, 11, 3))]
    assert line(book) == (0, 120, 120, 0, 0)
    assert send_signals(book.unit_of_work()) == []  # covered now: nothing more to send
    post(book, "  - {type: release, id: WO-8, date: 2026-11-03, item: STOOL, qty: 1}\n")
    (again,) = send_signals(book.unit_of_work())
    assert again.id == "KB-2026-11-03-LEG@line-1-2" and again.qty == 10


def test_kanban_in_the_json_document() -> None:
    text = PLANT + ("  - {type: release, id: WO-7, date: 2026-11-03, item: STOOL, qty: 40}\n"
                    "  - {type: transfer, id: T, date: 2026-11-03, item: LEG, qty: 120, "
                    "from: stores, to: line-1}\n")
    book = memory_ledger()
    assert run_scenario(book.unit_of_work(), scenario_from_text(text)).ok
    with book.unit_of_work(read_only=True) as uow:
        doc = run_json(uow, [])
    assert doc["kanban"] == [
        {"item": "LEG", "location": "line-1", "on_hand": "120", "demand": "120",
         "open_signals": "0", "replenish_qty": "0", "containers": 0, "container_qty": "10"},
        {"item": "CASTER", "location": "line-2", "on_hand": "1000", "demand": "0",
         "open_signals": "0", "replenish_qty": "0", "containers": 0, "container_qty": "50"}]


def test_kanban_line_and_sizing_arithmetic() -> None:
    sm = Supermarket("LEG", "line-1", D(100), D("1.5"), D("0.1"))
    assert kanban_line(sm, D(400), D(120), D(100)).replenish_qty == 200  # spec's example
    assert kanban_line(sm, D(400), D(120), D(180)).containers == 1
    assert kanban_line(sm, D(100), D(120), D(0)).containers == 0
    # 300 a day x 1.5 days x 1.1 = 495: 5 containers of 100.
    assert sizing(sm, D(300)).containers == 5 and sizing(sm, D(300)).kanban_qty == 500
    assert sizing(sm, D(0)).containers == 0


@pytest.mark.parametrize(("entry", "message"), [
    ("{item: LEG, location: line-1, container_qty: 0}", "field 'container_qty': must be positive"),
    ("{item: LEG, location: line-1, container_qty: 10, safety: -1}",
     "field 'safety': must be zero or more"),
    ("{item: NOPE, location: line-1, container_qty: 10}", "unknown item 'NOPE'"),
    ("{item: KIT, location: line-1, container_qty: 10}", "phantom"),
    ("{item: LEG, location: line-9, container_qty: 10}", "backflushed from line-1"),
    ("{item: LEG, location: line-1, container_qty: 10, colour: red}", "unknown field"),
])
def test_bad_kanban_master_data_is_refused(entry: str, message: str) -> None:
    text = PLANT.replace("  - {item: CASTER, location: line-2, container_qty: 50}\n",
                         f"  - {entry}\n")
    text = text.replace("  - {item: LEG, location: line-1, container_qty: 10, "
                        "lead_time_days: 2, safety: 0.25}\n", "")
    with pytest.raises(ValidationError) as caught:
        scenario_from_text(text)
    assert message in str(caught.value)


def test_a_supermarket_given_twice_is_refused() -> None:
    text = PLANT.replace("kanban:\n", "kanban:\n  - {item: CASTER, location: line-2, "
                         "container_qty: 5}\n", 1)
    with pytest.raises(ValidationError, match="CASTER at line-2 appears twice"):
        scenario_from_text(text)


@pytest.mark.parametrize(("event", "message"), [
    ("{type: signal, id: S, date: 2026-11-03, item: SEAT, location: stores, qty: 5}",
     "SEAT has no supermarket at stores"),
    ("{type: signal, id: S, date: 2026-11-03, item: LEG, location: line-1, qty: 0}",
     "qty"),
])
def test_a_bad_signal_posts_nothing(event: str, message: str) -> None:
    book = ledger()
    with book.unit_of_work(read_only=True) as uow:
        before = (len(list(uow.events.all())), kanban.open_signals(uow))
    with pytest.raises(BackflushError) as caught:  # a refusal, or a bad field
        post(book, f"  - {event}\n")
    assert message in str(caught.value)
    with book.unit_of_work(read_only=True) as uow:
        assert (len(list(uow.events.all())), kanban.open_signals(uow)) == before


def test_only_the_supermarkets_an_event_touches_are_recomputed() -> None:
    book = ledger()
    text = "  - {type: release, id: WO-2, date: 2026-11-03, item: CHAIR, qty: 30}\n"
    post(book, text)
    scenario = scenario_from_text(PLANT.replace("events:\n", "events:\n" + text, 1))
    release: Event = scenario.events[0].event
    with book.unit_of_work(read_only=True) as uow:
        assert [(ln.item, ln.demand) for ln in kanban.kanban_after(uow, release)] == [
            ("CASTER", 150)]


SPEC_EXAMPLE = """\
format: 1
kanban:
  - {item: CASTER-50, location: line-1, container_qty: 100, lead_time_days: 1, safety: 0.10}
items:
  - {code: CASTER-50, standard_cost: 0.62, backflush_from: line-1, negative_stock: queue}
  - {code: CH-TASK, conversion_cost: 10}
boms:
  CH-TASK: [{item: CASTER-50, qty: 5}]
events:
  - {type: receipt, id: PO-1, date: 2026-11-02, item: CASTER-50, qty: 1000, unit_price: 0.62}
  - {type: transfer, id: T-1, date: 2026-11-02, item: CASTER-50, qty: 200, from: stores,
     to: line-1}
  - {type: release, id: WO-7, date: 2026-11-03, item: CH-TASK, qty: 40, due: 2026-11-05}
  - {type: completion, date: 2026-11-05, item: CH-TASK, qty: 38, order: WO-7}
  - {type: reversal, of: WO-7-C1, qty: 5, reason: miscounted}          # partial reversal
"""


def test_the_scenario_formats_example_names_and_dates_what_it_leaves_out() -> None:
    """A completion naming its order is ORDER-C1, C2...; a reversal without a date is
    dated as the event before it (the scenario format's own example)."""
    scenario = scenario_from_text(SPEC_EXAMPLE)
    completion, reversal = (located.event for located in scenario.events[-2:])
    assert completion.id == "WO-7-C1"
    assert reversal.date == date(2026, 11, 5) and reversal.id == "#5"
    book = memory_ledger()
    assert run_scenario(book.unit_of_work(), scenario).ok
    with book.unit_of_work(read_only=True) as uow:
        (caster,) = run_json(uow, [])["kanban"]
        # 40 released, 38 completed, 5 of them reversed: 7 open x 5 casters. 200 moved in,
        # 190 backflushed, 25 back: 35 on hand.
        assert (caster["demand"], caster["on_hand"], caster["replenish_qty"]) == (
            "35", "35", "0")
        assert uow.floor.order("WO-7") == ("CH-TASK", D(7))
