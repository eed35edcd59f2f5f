"""Summary entries: the backflush way to keep books at plant volume (``journal: summary``).

A day's completions, receipts and sales can be written as one summary entry instead of an
entry each. The summary is not a second set of rules: it is the **sum of the events' own
drafts** (:mod:`backflush.domain.rules`), settled once by the same function that settles one
event (:func:`~backflush.domain.drafts.settle`):

* every amount a rule adds (conversion applied, payables, price, usage and scrap variances,
  cost of goods sold, revenue) is money already, so the sum over the day's events is exact;
* stock value telescopes: the per-event lines round(new × v) − round(old × v) of one item
  add up to round(final × v) − round(initial × v), which is what settling the day's net moves
  posts;
* rounding differences are what is left, as in any entry.

So a summary entry equals, account by account, the sum of the per-event entries of its
events. That holds when nothing in the events' drafts depended on stock: no issue parked or
cleared, nothing short (the caller checks that before it summarises, and posts event by
event otherwise). Events of the same shape have the same draft, which is why the caller can
work a draft out once per shape and count (:func:`aggregate` takes counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from backflush.domain import rules
from backflush.domain.drafts import Amount, Draft, DraftEntry, Move, settle
from backflush.domain.events import FLOW_TYPES, Event
from backflush.domain.journal import Posting
from backflush.domain.numbers import EXACT, ZERO
from backflush.domain.policy import Role
from backflush.domain.rules.context import RuleContext
from backflush.domain.valuation import Books
from backflush.domain.view import LedgerView

SUMMARY = "summary"


MoveKey = tuple[str, str, str, str]  # item, location, kind, parent
AmountKey = tuple[str, Role | None, str | None, str]  # account, role, family, item


Moves = tuple[tuple[MoveKey, Decimal], ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """The draft of events of one shape, with what the summary adds up of it: its moves and
    amounts by the keys they are summed by (worked out once, when the shape is made).

    ``per_unit``: the moves per unit of the event's quantity, when every move is an exact
    multiple of it (a backflush is: qty per × qty), else None. Shapes with equal moves per
    unit (the same item and BOM, another quantity) are then summed by their quantities and
    multiplied out once: Σ n × (q × p) = p × Σ n × q, exactly.
    """

    kind: str  # the event type
    item: str  # the event's item (a completion's item: the parent of what it backflushes)
    draft: Draft
    summarisable: bool
    moves: Moves
    amounts: tuple[tuple[AmountKey, Decimal, Decimal], ...]  # key, value, qty
    cogs: tuple[Decimal, Decimal]
    qty: Decimal = ZERO
    per_unit: Moves | None = None

    @staticmethod
    def of(kind: str, item: str, draft: Draft, qty: Decimal | None = None) -> Shape:
        """A draft with nothing but one entry (or none), moves and alerts sums exactly; one
        that parks or clears issues depends on stock, and is posted event by event."""
        summarisable = len(draft.entries) <= 1 and not draft.parks and not draft.findings \
            and draft.new_cost_version is None and draft.locks_through is None \
            and all(e.balance_to is Role.ROUNDING and e.carry_to is None
                    for e in draft.entries)
        parent = item if kind == "completion" else ""
        moves = tuple(((m.item, m.location, m.kind, parent if m.kind == "backflush" else ""),
                       m.qty) for m in draft.moves)
        amounts = tuple(((a.account, a.role, a.family, a.item), a.value, a.qty)
                        for e in draft.entries for a in e.amounts)
        cogs = (sum((e.cogs_material for e in draft.entries), ZERO),
                sum((e.cogs_conversion for e in draft.entries), ZERO))
        per_unit = None
        if qty and moves:
            try:
                with localcontext(EXACT):  # inexact (not a multiple): raises, no grouping
                    per_unit = tuple((key, moved / qty) for key, moved in moves)
            except ArithmeticError:
                per_unit = None
        return Shape(kind, item, draft, summarisable, moves, amounts, cogs, qty or ZERO,
                     per_unit)


def aggregate(day: date, shapes: Iterable[tuple[Shape, int]]) -> Draft:
    """One draft for a day's events: each shape's amounts and moves times the number of the
    day's events of that shape. Moves are summed by item, location, kind and the parent they
    were backflushed for; amounts by account and item (the summary's derivations)."""
    amounts: dict[AmountKey, list[Decimal]] = {}
    moves: dict[MoveKey, Decimal] = {}
    kinds = dict.fromkeys(FLOW_TYPES, 0)
    material = conversion = ZERO
    get = moves.get
    units: dict[int, tuple[Moves, Decimal]] = {}  # moves per unit -> Σ n × qty
    with localcontext(EXACT):
        for shape, n in shapes:
            kinds[shape.kind] = kinds.get(shape.kind, 0) + n
            if shape.cogs[0] or shape.cogs[1]:
                material += shape.cogs[0] * n
                conversion += shape.cogs[1] * n
            for key, value, qty in shape.amounts:
                found = amounts.get(key)
                if found is None:
                    found = amounts[key] = [ZERO, ZERO, ZERO]
                found[0] += value * n
                found[1] += qty * n
                found[2] += n
            per_unit = shape.per_unit
            if per_unit is not None:
                found_units = units.get(id(per_unit))
                units[id(per_unit)] = (per_unit, shape.qty * n if found_units is None
                                       else found_units[1] + shape.qty * n)
                continue
            for move_key, qty in shape.moves:
                moves[move_key] = get(move_key, ZERO) + qty * n
        for per_unit, quantity in units.values():
            for move_key, per in per_unit:
                moves[move_key] = get(move_key, ZERO) + per * quantity
    total = sum(kinds.values())
    what = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items() if n)
    summary = DraftEntry(
        SUMMARY, f"Summary of {total} events on {day}: {what}",
        tuple(Amount(role, account, value, SUMMARY, family, item, qty,
                     f"{int(n)} events, each rounded" if item else "")
              for (account, role, family, item), (value, qty, n) in sorted(
                  amounts.items(), key=lambda kv: (kv[0][0], kv[0][3])) if value),
        "", day, material, conversion)
    return Draft((summary,), tuple(Move(item, location, qty, kind, 0, SUMMARY, None, "", parent)
                                   for (item, location, kind, parent), qty in sorted(moves.items())
                                   if qty))


AMPLE = Decimal(10) ** 15  # more of any item than a ledger can hold: no stock line rounds


class _Ample:
    """The ledger as a summarised event's share sees it: plenty of everything, nothing
    parked. Stock value lines are then round(qty × v) exactly (AMPLE × v has no fraction)."""

    def __init__(self, view: LedgerView) -> None:
        self.view = view

    def __getattr__(self, name: str) -> object:
        return getattr(self.view, name)

    def on_hand(self, item: str, location: str) -> Decimal:
        return AMPLE

    def on_hand_total(self, item: str) -> Decimal:
        return AMPLE

    def pending_at(self, item: str, location: str) -> tuple[tuple[str, Decimal], ...]:
        return ()

    def pending_total(self, item: str) -> Decimal:
        return ZERO


def share(books: Books, view: LedgerView, event: Event) -> Posting:
    """A summarised event's own posting, by the rules, at the standards it was posted at
    (``books``), as if stock were ample: its share of the summary entry, what ``explain``
    shows and what its reversal takes back."""
    ample: Any = _Ample(view)
    ctx = RuleContext(books, ample)
    with localcontext(EXACT):
        return settle(books, rules.draft(ctx, event), event.id, event.date,
                      ample.on_hand_total, ample.pending_total)
