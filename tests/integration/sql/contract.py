"""The contract of the ports, as data: a sequence of writes through a unit of work, and a
snapshot of everything the read methods return. The memory adapter is the reference: the SQL
adapter must give the very same snapshot (decimals compared by their canonical text, so 1.50
is not 1.5)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Opening,
    OpeningStock,
    Receipt,
    Release,
    Reversal,
    Sale,
    Scrap,
    Transfer,
)
from backflush.domain.items import Item
from backflush.domain.journal import (
    Alert,
    Derivation,
    Finding,
    JournalEntry,
    JournalLine,
    PendingChange,
    StockMove,
)
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.numbers import ZERO
from backflush.domain.policy import (
    ConversionMode,
    Disposition,
    NegativeStock,
    Policy,
    Role,
    Stage,
)
from backflush.domain.rollup import roll_up
from backflush.domain.routing import Operation, WorkCenter
from backflush.service_layer.ports import EventRows, IdsTaken, StoredEntry
from backflush.service_layer.unit_of_work import UnitOfWork

D = Decimal
OPENED = date(2026, 11, 1)
A, B, C = date(2026, 11, 2), date(2026, 11, 16), date(2026, 11, 28)
DATES = (date(2026, 10, 31), A, date(2026, 11, 10), B, C, date(2026, 12, 31))
RANGES = ((OPENED, date(2026, 11, 30)), (A, A), (B, C), (date(2026, 12, 1), date(2026, 12, 31)))
MATERIALS, PAYABLE = "Raw and In-Process Inventory", "Accounts Payable"
FG, COGS, WAGES = "Finished Goods Inventory", "Cost of Goods Sold", "Wages and Other Accounts"
BIG = D("999999999999999.9999999999")
TINY = D("1E-10")


def master_data() -> MasterData:
    items = {
        "SEAT": Item("SEAT", standard_cost=D("5.00"), description="a seat, ø 30 cm"),
        "LEG": Item("LEG", standard_cost=D("1.000000")),
        "BOLT": Item("BOLT", uom="pc", standard_cost=D("0.05")),
        "FRAME": Item("FRAME", made=True, phantom=True),
        "STOOL": Item("STOOL", made=True, finished=True),
        "KIT": Item("KIT", made=True, conversion_cost=D("2.50"), finished=False),
    }
    boms = Boms.of([
        BomVersion("STOOL", 2, B, (BomLine("SEAT", D(1)), BomLine("FRAME", D(1)),
                                   BomLine("BOLT", D(2), D("0.02")))),
        BomVersion("STOOL", 1, date(2000, 1, 1), (BomLine("SEAT", D(1)),
                                                  BomLine("FRAME", D("1.0")))),
        BomVersion("FRAME", 1, date(2000, 1, 1), (BomLine("LEG", D(4)), BomLine("BOLT", D(8)))),
        BomVersion("KIT", 1, date(2000, 1, 1), (BomLine("BOLT", D(10)),)),
    ])
    centers = {"PAINT": WorkCenter("PAINT", conversion_rate=D("12.3456789012")),
               "ASSY": WorkCenter("ASSY", D("38.50"), D("61.25"))}
    routings = {"STOOL": (Operation(20, "PAINT", D("0.1")),
                          Operation(10, "ASSY", D("0.25"), D("1.5"), D(100)))}
    master = MasterData(items, boms, centers, routings)
    check_master_data(master)
    return master


POLICY = Policy(triggers=frozenset({Stage.PURCHASE, Stage.COMPLETION}),
                conversion=ConversionMode.EXPENSED,
                disposition={"usage": Disposition.PRORATE, "scrap": Disposition.KEEP},
                negative_stock=NegativeStock.QUEUE, accounts={Role.SALES: "Revenue – Stools"},
                minor_unit=3, currency="BHD", count_tolerance=D("0.050"),
                negative_stock_at={"line": NegativeStock.REJECT})

# The events posted one by one, in order.
EVENTS: tuple[Event, ...] = (
    Opening(id="OPEN-1", date=OPENED, stock=(OpeningStock("SEAT", D("10.5")),
                                             OpeningStock("LEG", D(40), "line")),
            balances={"Cash": D("1000.00"), "Opening Balance Equity": D("-1000.00")}),
    Receipt(id="PO-1", date=A, item="SEAT", qty=D(100), unit_price=D("5.10"),
            supplier="Sitz \\ GmbH"),
    Receipt(id="PO-2", date=A, item="BOLT", qty=D("0.000001"), unit_price=D("0.05")),
    Completion(id="WO-1", date=A, item="STOOL", qty=D(10), scrap_qty=D("1.50"),
               hours=(("PAINT", D("1.25")), ("ASSY", D("2.5"))), order="ORD-1"),
    Completion(id="WO-2", date=B, item="KIT", qty=D(5), location="line", output_location="fg"),
    ConversionIncurred(id="CV-1", date=B, amount=D("61500.25"), element="labor", credit="WAGES"),
    Sale(id="SO-1", date=B, item="STOOL", qty=D(4)),
    Sale(id="SO-2", date=C, item="STOOL", qty=D(1), unit_price=D(25), customer="ACME"),
    Scrap(id="SC-1", date=C, item="SEAT", qty=D(2), reason="dropped"),
    Transfer(id="TR-1", date=C, item="LEG", qty=D(8), from_location="line", to_location="stores"),
    Count(id="CT-1", date=C, item="BOLT", qty=D(0), location="line"),
    Release(id="REL-1", date=C, item="STOOL", qty=D(3), due=date(2026, 12, 24)),
    CostChange(id="CC-1", date=C, item="SEAT", standard_cost=D("5.25")),
    Reversal(id="REV-1", date=C, of="WO-1", reason="wrong item"),
    Close(id="close-2026-11", date=date(2026, 11, 30), period="2026-11"),
)
# Events logged in bulk, as templates (posted in summaries).
TEMPLATES = (
    Completion(id="#", date=A, item="STOOL", qty=D(1)),
    Completion(id="#", date=B, item="KIT", qty=D("2.5")),
    Sale(id="#", date=A, item="STOOL", qty=D(3), unit_price=D("24.999")),
    Receipt(id="#", date=C, item="LEG", qty=D(12), unit_price=D("1.00")),
)
BULK_IDS = ("S-1", "S-2", "S-3", "S-4", "S-5", "S-6", "S-\\7")
BULK_INDEX = (0, 2, 1, 0, 3, 1, 0)
IDS = tuple(e.id for e in EVENTS) + BULK_IDS + ("SP-1", "SP-2", "LATE-1", "NOPE")


def entry(event: Event, amount: Decimal, *, debit: str = MATERIALS, credit: str = PAYABLE,
          family: str | None = None, derivations: int = 2, kind: str | None = None,
          cogs: tuple[Decimal, Decimal] = (ZERO, ZERO)) -> JournalEntry:
    lines = (JournalLine(debit, amount, ZERO, Role.MATERIALS, f"{event.id} in"),
             JournalLine(credit, ZERO, amount, None, "", family))
    derived = tuple(Derivation(f"I{n}", D(n) + TINY, f"basis {n} x {amount}", amount, debit,
                               "STOOL@v1" if n % 2 else "", "stores" if n else "")
                    for n in range(derivations))
    return JournalEntry(event.id, event.date, kind or event.type, f"{event.type} {event.id}",
                        lines, derived, 1, "STOOL@v1", *cogs)


def summary(day: date, amount: Decimal) -> JournalEntry:
    lines = (JournalLine(COGS, amount, ZERO, Role.COST_OF_GOODS_SOLD, "summary"),
             JournalLine(FG, ZERO, amount - D("0.001"), Role.FINISHED_GOODS),
             JournalLine("Rounding Differences", ZERO, D("0.001"), Role.ROUNDING))
    derived = tuple(Derivation(f"P{n:03d}", D(n), "3 events, each rounded", D(n), COGS)
                    for n in range(300))
    return JournalEntry(f"summary {day}", day, "summary", f"Summary of events on {day}",
                        lines, derived, 1, "", amount, D("0.5"))


def moves_for(event: Event) -> tuple[tuple[StockMove, ...], tuple[PendingChange, ...]]:
    """Moves and parked issues of each event, of every kind the ledger knows."""
    e = event.id
    table: dict[str, tuple[tuple[StockMove, ...], tuple[PendingChange, ...]]] = {
        "OPEN-1": ((StockMove("SEAT", "stores", D("10.5"), "opening"),
                    StockMove("LEG", "line", D(40), "opening")), ()),
        "PO-1": ((StockMove("SEAT", "stores", D(100), "receipt"),), ()),
        "PO-2": ((StockMove("BOLT", "line", D("0.000001"), "receipt"),),
                 (PendingChange("BOLT", "line", D("-3"), "WO-1"),)),
        "WO-1": ((StockMove("SEAT", "stores", D("-11.5"), "backflush"),
                  StockMove("LEG", "line", D(-46), "backflush"),
                  StockMove("STOOL", "stores", D(10), "completion")),
                 (PendingChange("LEG", "line", D(6), e), PendingChange("BOLT", "line", D(92), e),
                  PendingChange("BOLT", "line", D(3), "WO-0"))),
        "WO-2": ((StockMove("BOLT", "line", D("-50"), "backflush"),
                  StockMove("KIT", "fg", D(5), "completion")),
                 (PendingChange("BOLT", "line", D(50), e),)),
        "SO-1": ((StockMove("STOOL", "stores", D(-4), "sale"),), ()),
        "SO-2": ((StockMove("STOOL", "stores", D(-1), "sale"),), ()),
        "SC-1": ((StockMove("SEAT", "stores", D(-2), "scrap"),), ()),
        "TR-1": ((StockMove("LEG", "line", D(-8), "transfer"),
                  StockMove("LEG", "stores", D(8), "transfer")), ()),
        "CT-1": ((StockMove("BOLT", "line", D("-0.000001"), "count"),),
                 (PendingChange("BOLT", "line", D(-90), "WO-1"),
                  PendingChange("LEG", "line", D(-6), "WO-1"))),
        "REV-1": ((StockMove("SEAT", "stores", D("11.5"), "reversal"),
                   StockMove("STOOL", "stores", D(-10), "reversal")), ()),
    }
    return table.get(e, ((), ()))


SUMMARY_MOVES = {
    A: (StockMove("SEAT", "stores", D(-2), "backflush", "STOOL"),
        StockMove("STOOL", "stores", D(2), "completion"),
        StockMove("STOOL", "stores", D(-3), "sale")),
    B: (StockMove("BOLT", "line", D(-50), "backflush", "KIT"),
        StockMove("KIT", "stores", D(5), "completion")),
    C: (StockMove("LEG", "stores", D(12), "receipt"),),
}


# ---------------------------------------------------------------------------- the writes
Step = Callable[[UnitOfWork], None]


def set_up(uow: UnitOfWork) -> None:
    assert not uow.master.ready()
    assert not uow.master.frozen()
    assert uow.events.last_date() is None
    master = master_data()
    uow.master.setup(master, POLICY, roll_up(master, OPENED), OPENED)
    assert uow.master.ready()


def post_event(uow: UnitOfWork, event: Event) -> int:
    seq = uow.events.append(event, uow.master.costs().number)
    amount = D("51.10") if event.type != "opening" else D("1000.00")
    family = "purchase_price" if event.type == "receipt" else None
    entries = [entry(event, amount, family=family)]
    if event.type == "completion":
        entries.append(entry(event, D("12.345"), debit=FG, credit=MATERIALS, derivations=0,
                             kind="conversion_applied", family="conversion",
                             cogs=(D("1.1"), D("2.2"))))
    if event.type == "sale":
        entries = [entry(event, D("98.765"), debit=COGS, credit=FG, derivations=40,
                         cogs=(D("80.5"), D("18.265")))]
    seqs = uow.journal.append(seq, entries)
    assert len(seqs) == len(entries)
    moves, pending = moves_for(event)
    uow.stock.prefetch(sorted({m.item for m in moves}))
    uow.stock.apply(seq, event.date, moves, pending)
    if event.type == "completion":
        uow.events.add_alerts(seq, [Alert(event.id, "queued", f"{event.id} parked BOLT")])
    if event.type == "count":
        uow.events.add_findings(seq, [Finding(event.id, "STOOL", "BOLT", "STOOL@v2", D(2),
                                              D("2.04"), D(100), D("-4.000001"))])
    if isinstance(event, Reversal):
        uow.events.mark_reversed(event.of, event.id)
    if isinstance(event, CostChange):
        master = uow.master.master()
        seat = dataclasses.replace(master.items["SEAT"], standard_cost=event.standard_cost)
        new = master.with_item(seat)
        uow.master.add_cost_version(roll_up(new, event.date, 2), new, event.id)
    if isinstance(event, Close):
        uow.master.lock(event.date, event.period, event.id)
        uow.master.lock(date(2026, 10, 31), "2026-10", "close-2026-10")
    return seq


def post_summaries(uow: UnitOfWork) -> None:
    written = uow.journal.append(None, [summary(A, D("77.777")), summary(B, BIG / 10**5)])
    entry_of = {A: written[0], B: written[1], C: 0}
    uow.events.append_many(EventRows(BULK_IDS, BULK_INDEX, TEMPLATES,
                                     [entry_of[t.date] for t in TEMPLATES]), 1)
    for day, moves in SUMMARY_MOVES.items():
        uow.stock.apply(None, day, moves)
    uow.events.add_alerts(None, [Alert(i, "negative_stock", f"{i}: stock went below zero")
                                 for i in BULK_IDS[:3]])
    uow.events.mark_reversed("S-4", "REV-S4")


def rolled_back(uow: UnitOfWork) -> None:
    """Writes of every store, never committed."""
    late = Receipt(id="LATE-1", date=C, item="SEAT", qty=D(1), unit_price=D(5))
    post_event(uow, late)
    uow.master.replace_master(master_data(), roll_up(master_data(), OPENED, 3))
    uow.master.lock(C, "2026-11", "x")


def with_savepoints(uow: UnitOfWork) -> None:
    """What a savepoint undoes is gone, in the database and in what the stores keep."""
    sp1 = Receipt(id="SP-1", date=C, item="BOLT", qty=D(7), unit_price=D("0.05"))
    try:
        with uow.savepoint():
            post_event(uow, sp1)
            uow.master.replace_master(master_data(), roll_up(master_data(), OPENED, 9))
            uow.events.append_many(EventRows(["SP-BULK"], [0], TEMPLATES[:1], [0]), 1)
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    try:
        with uow.savepoint():  # an id taken: IdsTaken, nothing of the rows written
            uow.events.append_many(EventRows(["NEW-1", "PO-1", "NEW-2"], [0, 1, 0],
                                             TEMPLATES[:2], [0, 0]), 1)
    except IdsTaken:
        pass
    try:
        with uow.savepoint():  # an id twice among the rows
            uow.events.append_many(EventRows(["NEW-3", "NEW-3"], [0, 0], TEMPLATES[:1], [0]),
                                   1)
    except IdsTaken:
        pass
    try:
        uow.events.append(EVENTS[1], 1)  # taken: refused, the transaction goes on
    except IdsTaken as exc:
        assert exc.args == (["PO-1"],)
    post_event(uow, dataclasses.replace(sp1, id="SP-2"))


def posting(event: Event) -> tuple[str, Step, bool]:
    def step(uow: UnitOfWork) -> None:
        post_event(uow, event)
    return f"post {event.id}", step, True


STEPS: tuple[tuple[str, Step, bool], ...] = (
    ("set up", set_up, True),
    *(posting(e) for e in EVENTS[:6]),
    ("summaries", post_summaries, True),
    ("rolled back", rolled_back, False),
    *(posting(e) for e in EVENTS[6:]),
    ("savepoints", with_savepoints, True),
)


# ---------------------------------------------------------------------------- the reads
def canon(value: Any) -> Any:
    """A value as comparable data: decimals as their canonical text (1.50 is not 1.5),
    records as their fields, mappings as dicts, sequences as tuples."""
    if isinstance(value, Decimal):
        return ("D", format(value, "f"))
    if isinstance(value, Enum):
        return (type(value).__name__, value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, canon(getattr(value, f.name)))
                                            for f in dataclasses.fields(value) if f.compare))
    if isinstance(value, Mapping):
        return {canon(k): canon(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return ("set", tuple(sorted(repr(canon(v)) for v in value)))
    if isinstance(value, tuple | list):
        return tuple(canon(v) for v in value)
    return value


def _without_derivations(stored: StoredEntry) -> StoredEntry:
    return StoredEntry(stored.seq, dataclasses.replace(stored.entry, derivations=()))


def snapshot(uow: UnitOfWork) -> dict[str, Any]:
    """Everything the read methods of the four stores return, for this ledger."""
    m, ev, j, st = uow.master, uow.events, uow.journal, uow.stock
    out: dict[str, Any] = {"ready": m.ready(), "frozen": m.frozen()}
    master = m.master()
    out["master"] = master
    out["master order"] = (list(master.items), [v.key for v in master.boms.all()],
                           list(master.work_centers), list(master.routings))
    out["policy"], out["costs"] = m.policy(), m.costs()
    out["cost versions"] = [m.cost_version(n) for n in (1, 2)]
    out["opened_on"], out["locked_through"] = m.opened_on(), m.locked_through()
    out["closed periods"] = m.closed_periods()
    out["get"] = {i: ev.get(i) for i in IDS}
    out["find"] = ev.find([*IDS, "PO-1", "S-1"])
    out["count"] = ev.count()
    out["last date"] = ev.last_date()
    out["all"] = list(ev.all())
    out["all after"] = {n: list(ev.all(after=n)) for n in (1, 3, out["count"], out["count"] + 5)}
    out["summarised reversed"] = [ev.summarised_reversed(kind, start, end)
                                  for kind in ("completion", "sale") for start, end in RANGES]
    out["alerts"], out["findings"] = ev.alerts(), ev.findings()
    out["latest alerts"] = [ev.latest_alerts(n) for n in (0, 1, 2, 1000)]
    entries = list(j.entries())
    out["entries"] = [_without_derivations(s) for s in entries]
    out["entry"] = [j.entry(n) for n in range(len(entries) + 2)]
    out["last seq"] = j.last_seq()
    out["entries after"] = {n: [_without_derivations(s) for s in j.entries(after=n)]
                            for n in (1, 2, len(entries), len(entries) + 3)}
    out["entries of"] = {i: j.entries_of(i) for i in (*IDS, "summary 2026-11-02")}
    balances = j.balances()
    out["balances"] = balances
    accounts = [*sorted(balances), "Nowhere"]
    out["balance"] = {(a, d): j.balance(a, d) for a in accounts for d in (None, *DATES)}
    out["family balance"] = {(f, a, d): j.family_balance(f, a, d)
                             for f in ("purchase_price", "conversion", "usage")
                             for a in (PAYABLE, MATERIALS) for d in (None, A, C)}
    out["cogs"] = [j.cogs_content(start, end) for start, end in RANGES]
    places = [*sorted(st.balances()), ("NOPE", "stores"), ("BOLT", "nowhere")]
    items = sorted({p[0] for p in places})
    out["stock balances"] = st.balances()
    out["on hand"] = {p: st.on_hand(*p) for p in places}
    out["on hand total"] = {i: st.on_hand_total(i) for i in items}
    out["totals"] = {d: st.totals(d) for d in (None, *DATES)}
    out["moves"] = list(st.moves())
    out["moves of"] = {n: st.moves_of(n) for n in range(out["count"] + 2)}
    out["pending of"] = {n: st.pending_of(n) for n in range(out["count"] + 2)}
    out["pending at"] = {p: st.pending_at(*p) for p in [*places, ("LEG", "line")]}
    out["pending total"] = {i: st.pending_total(i) for i in items}
    out["pending totals"] = st.pending_totals()
    out["backflushed"] = {(c, start, end): st.backflushed(c, start, end)
                          for c in ("SEAT", "LEG", "BOLT", "STOOL") for start, end in RANGES}
    out["backflushed totals"] = {(start, end): st.backflushed_totals(start, end)
                                 for start, end in RANGES}
    return {k: canon(v) for k, v in out.items()}


class Store:
    """Units of work on one fresh ledger of a kind: memory, sqlite or postgresql."""

    def __init__(self, name: str, make: Callable[[], UnitOfWork]) -> None:
        self.name = name
        self.make = make

    def uow(self) -> UnitOfWork:
        return self.make()
