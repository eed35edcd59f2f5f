"""BOM lines issued by hand (issue 16, item 3): a line ``flush: manual`` is not backflushed;
an ``issue`` moves the part into the parent's in-process location and the completion
consumes its standard quantity from there; short issues are a usage variance, what is issued
in excess stays in process. To the cent, through the posting rules, on memory.

The chair: a seat (5.00, backflushed) and a motor (120.00, issued by hand), conversion 6.00;
standard 131.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.bom import BomLine, Boms, BomVersion, explode, signature
from backflush.domain.errors import (
    NumberError,
    PeriodLockedError,
    PostingError,
    ValidationError,
)
from backflush.domain.events import (
    Close,
    Completion,
    Count,
    Event,
    Issue,
    Receipt,
    Reversal,
    Transfer,
)
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData, validate_master_data
from backflush.domain.policy import Journal, Policy, Stage
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger
from tests.support import Reader

DAY = date(2026, 11, 3)
RIP, FG = "Raw and In-Process Inventory", "Finished Goods Inventory"
AP, APPLIED, USAGE = "Accounts Payable", "Conversion Costs Applied", "Material Usage Variance"
IN_PROCESS = "in-process/CHAIR"

ITEMS = [Item("SEAT", standard_cost=D("5.00")), Item("MOTOR", standard_cost=D("120.00")),
         Item("BOLT", standard_cost=D("0.10")),
         Item("CHAIR", conversion_cost=D("6.00"), made=True)]
LINES = (BomLine("SEAT", D(1)), BomLine("MOTOR", D(1), flush="manual"))


def ledger(policy: Policy | None = None, lines: tuple[BomLine, ...] = LINES
           ) -> tuple[object, Reader]:
    store = memory_ledger()
    master = MasterData({i.code: i for i in ITEMS},
                        Boms.of([BomVersion("CHAIR", 1, date(2026, 11, 1), lines)]))
    set_up_ledger(store.unit_of_work(), master, policy or Policy(), date(2026, 11, 1))
    reader = Reader(store.unit_of_work)
    post(store, Receipt(id="PO-1", date=DAY, item="SEAT", qty=D(100), unit_price=D("5.00")),
         Receipt(id="PO-2", date=DAY, item="MOTOR", qty=D(20), unit_price=D("120.00")))
    return store, reader


def post(store: object, *events: Event) -> None:
    post_events(store.unit_of_work(), list(events))  # type: ignore[attr-defined]


def net(reader: Reader, event_id: str) -> dict[str, D]:
    out: dict[str, D] = {}
    for s in reader.entries_of(event_id):
        for ln in s.entry.lines:
            out[ln.account] = out.get(ln.account, D(0)) + ln.net
    return {k: v for k, v in out.items() if v}


def issue(qty: int, id_: str = "IS-1", **more: object) -> Issue:
    return Issue(id=id_, date=DAY, item=str(more.pop("item", "MOTOR")), qty=D(qty),
                 parent=str(more.pop("parent", "CHAIR")), **more)  # type: ignore[arg-type]


def chairs(qty: int, id_: str = "WO-1") -> Completion:
    return Completion(id=id_, date=date(2026, 11, 4), item="CHAIR", qty=D(qty))


# ------------------------------------------------------------------ master data


def test_a_bom_line_is_backflushed_unless_marked_manual() -> None:
    assert BomLine("SEAT", D(1)).flush == "backflush" and not BomLine("SEAT", D(1)).manual
    assert BomLine("MOTOR", D(1), flush="manual").manual
    with pytest.raises(NumberError, match="flush must be backflush or manual") as exc:
        BomLine("MOTOR", D(1), flush="by hand")
    assert exc.value.field == "flush"


def test_a_manual_line_changes_the_signature_and_is_marked_in_the_explosion() -> None:
    items = {i.code: i for i in ITEMS}
    day = date(2026, 11, 1)
    plain = Boms.of([BomVersion("CHAIR", 1, day, (BomLine("SEAT", D(1)),
                                                  BomLine("MOTOR", D(1))))])
    manual = Boms.of([BomVersion("CHAIR", 1, day, LINES)])
    assert signature("CHAIR", day, plain, items) == ("CHAIR@v1",)
    assert signature("CHAIR", day, manual, items) == ("CHAIR@v1+manual",)
    by_part = {r.component: r.manual for r in explode("CHAIR", D(2), day, manual,
                                                      items).requirements}
    assert by_part == {"SEAT": False, "MOTOR": True}


def test_a_phantom_issued_by_hand_issues_all_of_its_parts() -> None:
    kit = Item("KIT", phantom=True, made=True)
    items = {i.code: i for i in (*ITEMS, kit)}
    day = date(2026, 11, 1)
    boms = Boms.of([BomVersion("KIT", 1, day, (BomLine("BOLT", D(4)),)),
                    BomVersion("CHAIR", 1, day, (BomLine("SEAT", D(1)),
                                                 BomLine("KIT", D(1), flush="manual")))])
    reqs = explode("CHAIR", D(1), day, boms, items).requirements
    assert [(r.component, r.qty, r.manual) for r in reqs] == [
        ("SEAT", D(1), False), ("BOLT", D(4), True)]


def test_a_parent_with_manual_lines_keeps_its_in_process_location_within_a_code() -> None:
    long = "C" * 95
    master = MasterData({long: Item(long, conversion_cost=D(1), made=True),
                         "MOTOR": Item("MOTOR", standard_cost=D(1))},
                        Boms.of([BomVersion(long, 1, DAY, (BomLine("MOTOR", D(1),
                                                                   flush="manual"),))]))
    problems = validate_master_data(master)
    assert [(p.field, "at most 89 characters" in p.message) for p in problems] == [
        ("flush", True)]


# ------------------------------------------------------------------ posting


def test_a_completion_does_not_backflush_a_manual_line() -> None:
    store, reader = ledger()
    post(store, chairs(4))  # nothing issued: the motors stay in stores
    assert reader.on_hand("MOTOR", "stores") == 20
    assert reader.on_hand("SEAT", "stores") == 96
    # FG at full standard 4 x 131.00; seats 20.00 out of RIP; the 4 motors the standard
    # includes were never issued: 480.00 favourable usage, and an alert.
    assert net(reader, "WO-1") == {FG: D("524.00"), APPLIED: D("-24.00"), RIP: D("-20.00"),
                                   USAGE: D("-480.00")}
    alerts = [a for a in reader.alerts() if a.code == "issue_short"]
    assert [a.event_id for a in alerts] == ["WO-1"]
    assert "needs 4 in process (in-process/CHAIR), 0 issued; 4 at standard" \
        in alerts[0].message
    assert reader.verify() == []


def test_an_issue_moves_the_part_into_process_and_the_completion_consumes_it() -> None:
    store, reader = ledger()
    post(store, issue(10))
    assert reader.entries_of("IS-1") == []  # RIP to RIP: raw and in-process are one account
    assert reader.on_hand("MOTOR", "stores") == 10 and reader.on_hand("MOTOR", IN_PROCESS) == 10
    assert reader.balance(RIP) == D("2900.00")  # 500.00 seats + 2,400.00 motors, unchanged
    post(store, chairs(8))
    assert net(reader, "WO-1") == {FG: D("1048.00"), APPLIED: D("-48.00"),
                                   RIP: D("-1000.00")}  # 8 seats 40.00 + 8 motors 960.00
    assert reader.on_hand("MOTOR", IN_PROCESS) == 2  # issued in excess: stays in process
    assert reader.balance(RIP) == D("1900.00")  # 92 seats 460.00 + 12 motors 1,440.00
    moves = [(m.item, m.location, m.qty, m.kind) for m in reader.moves()
             if m.item == "MOTOR" and m.kind != "receipt"]
    assert moves == [("MOTOR", "stores", -10, "issue"), ("MOTOR", IN_PROCESS, 10, "issue"),
                     ("MOTOR", IN_PROCESS, -8, "backflush")]
    # The next completion takes the 2 left in process, and is 2 short.
    post(store, chairs(4, "WO-2"))
    assert net(reader, "WO-2") == {FG: D("524.00"), APPLIED: D("-24.00"),
                                   RIP: D("-260.00"), USAGE: D("-240.00")}
    assert reader.on_hand("MOTOR", IN_PROCESS) == 0
    assert reader.verify() == []


def test_excess_in_process_is_counted_or_returned() -> None:
    store, reader = ledger()
    post(store, issue(10), chairs(8))
    # A count of the in-process location finds the 2 left were used after all: 240.00 of
    # unfavourable usage, as any count.
    post(store, Count(id="CT-1", date=date(2026, 11, 6), item="MOTOR", qty=D(0),
                      location=IN_PROCESS))
    assert net(reader, "CT-1") == {RIP: D("-240.00"), USAGE: D("240.00")}
    store2, reader2 = ledger()
    post(store2, issue(10), chairs(8))
    post(store2, Transfer(id="TR-1", date=date(2026, 11, 6), item="MOTOR", qty=D(2),
                          from_location=IN_PROCESS, to_location="stores"))
    assert reader2.on_hand("MOTOR", "stores") == 12 and reader2.on_hand_total("MOTOR") == 12


def test_off_the_books_the_completion_credits_payables_for_the_manual_part() -> None:
    # {C,D}: parts are off the books until used; the completion puts the standard quantity
    # of every line on the books against Accounts Payable, issued by hand or not.
    store, reader = ledger(Policy(triggers=frozenset({Stage.COMPLETION, Stage.SALE})))
    post(store, issue(3), chairs(3))
    assert net(reader, "WO-1") == {FG: D("393.00"), APPLIED: D("-18.00"), AP: D("-375.00")}
    assert reader.on_hand("MOTOR", IN_PROCESS) == 0 and reader.on_hand("MOTOR", "stores") == 17


def test_an_issue_and_its_completion_reverse_exactly() -> None:
    store, reader = ledger()
    before = reader.balances()
    post(store, issue(5), chairs(5), Reversal(id="RV-1", date=DAY, of="WO-1"),
         Reversal(id="RV-2", date=DAY, of="IS-1"))
    assert {k: v for k, v in reader.balances().items() if v} == before
    assert reader.on_hand("MOTOR", "stores") == 20 and reader.on_hand("MOTOR", IN_PROCESS) == 0
    assert reader.verify() == []


# ------------------------------------------------------------------ bad input


def refused(store: object, reader: Reader, event: Event, match: str,
            kind: type[Exception] = PostingError) -> PostingError:
    before = (reader.balances(), reader.stock(), reader.event_ids(), len(reader.moves()))
    with pytest.raises(kind, match=match) as exc:
        post(store, event)
    assert (reader.balances(), reader.stock(), reader.event_ids(),
            len(reader.moves())) == before, "a refused issue changed the ledger"
    return exc.value  # type: ignore[return-value]


def test_an_issue_of_an_item_that_is_not_a_component_of_for_is_refused() -> None:
    store, reader = ledger()
    exc = refused(store, reader, issue(1, item="BOLT"),
                  "'BOLT' is not a component of 'CHAIR' \\(BOM CHAIR@v1 in effect")
    assert exc.field == "item"


def test_an_issue_of_a_backflushed_line_is_refused_it_would_relieve_twice() -> None:
    store, reader = ledger()
    exc = refused(store, reader, issue(1, item="SEAT"), "would relieve it twice")
    assert exc.field == "item"


def test_an_issue_of_an_unknown_item_or_for_an_unknown_or_purchased_parent_is_refused() -> None:
    store, reader = ledger()
    assert refused(store, reader, issue(1, item="GHOST"), "unknown item 'GHOST'").field == "item"
    assert refused(store, reader, issue(1, parent="GHOST"),
                   "unknown item 'GHOST'").field == "for"
    assert refused(store, reader, issue(1, parent="SEAT"),
                   "'SEAT' is a purchased item").field == "for"
    assert refused(store, reader, issue(1, location=IN_PROCESS),
                   "is an in-process location").field == "location"


def test_an_issue_in_a_closed_period_is_refused() -> None:
    store, reader = ledger()
    post(store, Close(id="close-2026-11", date=date(2026, 11, 30), period="2026-11",
                      force=True))
    refused(store, reader, issue(1), "is in a closed period", PeriodLockedError)


@pytest.mark.parametrize("qty", ["0", "-1"])
def test_an_issue_of_no_or_a_negative_quantity_is_invalid(qty: str) -> None:
    with pytest.raises(NumberError, match="qty: must be positive"):
        Issue(id="IS-9", date=DAY, item="MOTOR", qty=D(qty), parent="CHAIR")
    text = SCENARIO.replace("{type: issue, date: 2026-11-03, item: MOTOR, qty: 10,",
                            f"{{type: issue, date: 2026-11-03, item: MOTOR, qty: {qty},")
    with pytest.raises(ValidationError, match=r"events\[2\] \(IS-1\), field 'qty': must "
                       "be positive"):
        scenario_from_text(text)


def test_an_issue_without_for_is_invalid() -> None:
    with pytest.raises(ValidationError, match=r"events\[2\] \(IS-1\), field 'for': is "
                       "required"):
        scenario_from_text(SCENARIO.replace(" for: CHAIR,", ""))


# ------------------------------------------------------------------ the summary path

SCENARIO = """\
format: 1
name: Chair plant, motors issued by hand
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: MOTOR, standard_cost: 120.00}
  - {code: CHAIR, conversion_cost: 6.00}
boms:
  CHAIR: [{item: SEAT, qty: 1}, {item: MOTOR, qty: 1, flush: manual}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.00, id: PO-1}
  - {type: receipt, date: 2026-11-02, item: MOTOR, qty: 20, unit_price: 120.00, id: PO-2}
  - {type: issue, date: 2026-11-03, item: MOTOR, qty: 10, for: CHAIR, id: IS-1}
  - {type: completion, date: 2026-11-04, item: CHAIR, qty: 8, id: WO-1}
  - {type: completion, date: 2026-11-05, item: CHAIR, qty: 4, id: WO-2}
"""


def books(journal: Journal, events: list[Event], lines: tuple[BomLine, ...] = LINES
          ) -> tuple[dict[str, D], dict[tuple[str, str], D], list[str], int]:
    store, reader = ledger(Policy(journal=journal), lines)
    start = len(reader.entries())
    post(store, *events)
    assert reader.verify() == []
    summaries = sum(1 for s in reader.entries()[start:] if s.entry.type == "summary")
    return (dict(reader.balances()), dict(reader.stock()),
            sorted(f"{a.event_id}:{a.code}" for a in reader.alerts()), summaries)


@pytest.mark.parametrize("short", [False, True])
def test_the_summary_gives_the_books_of_per_event_posting_with_manual_lines(short: bool) -> None:
    events: list[Event] = [issue(12 if not short else 9, "IS-2")]
    events += [Completion(id=f"WO-{n}", date=date(2026, 11, 4 + n % 3), item="CHAIR",
                          qty=D(1)) for n in range(12)]
    per_event = books(Journal.PER_EVENT, events)
    summary = books(Journal.SUMMARY, events)
    assert summary[:3] == per_event[:3]
    assert per_event[3] == 0
    # Issues covering the run: summarised; short of it: posted event by event (the usage
    # variance of a short issue reads the stock in process).
    assert (summary[3] > 0) is (not short)
    assert per_event[0].get(USAGE, D(0)) == (D("-360.00") if short else D(0))
    assert per_event[0][FG] == D("1572.00")  # 12 chairs at 131.00 either way
