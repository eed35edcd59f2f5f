"""Partial reversals: which part of an original event a reversal takes back.

A reversal with ``qty`` takes back that many units of a completion (good units), sale or
receipt; without it, all that is left of the original. The effects taken back are the
original's (its posting, or for a summarised event its share) scaled to the part reversed:
each quantity and each amount is the difference of the original's value scaled to the
quantity reversed *after* this reversal and *before* it, each end rounded (quantities
exactly where they can be, else to 10 places; money to the currency's minor unit, half-up).
So the reversals of one original add up exactly to its negation once the whole of it is
reversed, whatever the parts, and a reversal of the whole at once is the exact negation, as
before. A completion's scrapped units go back in the same proportion as its good units
(its ``scrap_qty`` was reported for the same run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, Inexact, Rounded

from backflush.domain.drafts import EntryMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Event, Reversal
from backflush.domain.journal import JournalEntry, PendingChange
from backflush.domain.numbers import EXACT, ONE, ROUNDING, ZERO, fmt_qty, round_money, round_unit
from backflush.domain.policy import Role
from backflush.domain.valuation import HOLDING_ROLES
from backflush.domain.view import LedgerView

IN_PART = frozenset({"completion", "sale", "receipt"})  # what a reversal may take in part


def reversible_qty(event: Event) -> Decimal | None:
    """The quantity a reversal of ``event`` may take back in part (None: only the whole)."""
    if event.type not in IN_PART:
        return None
    qty: Decimal = getattr(event, "qty")  # noqa: B009 - completions, sales, receipts
    return qty


def reversed_so_far(view: LedgerView, event_id: str) -> Decimal:
    return sum((q for _, q in view.reversals_of(event_id)), ZERO)


@dataclass(frozen=True, slots=True)
class Portion:
    """The part of an original a reversal takes back: from ``before`` units reversed to
    ``after``, of the original's ``whole``. The default is the whole at once."""

    before: Decimal = ZERO
    after: Decimal = ONE
    whole: Decimal = ONE

    @property
    def entire(self) -> bool:
        return self.before == 0 and self.after == self.whole

    @property
    def taken(self) -> Decimal:
        return self.after - self.before

    def qty(self, value: Decimal) -> Decimal:
        """The part of a quantity (a stock move, a parked issue) taken back."""
        if self.entire:
            return value
        return self._qty_at(value, self.after) - self._qty_at(value, self.before)

    def money(self, value: Decimal, minor_unit: int) -> Decimal:
        """The part of an amount taken back, in the currency's minor unit."""
        if self.entire:
            return value
        return self._money_at(value, self.after, minor_unit) - self._money_at(
            value, self.before, minor_unit)

    def _qty_at(self, value: Decimal, reached: Decimal) -> Decimal:
        if reached == self.whole:
            return value
        if reached == 0:
            return ZERO
        scaled = EXACT.multiply(value, reached)
        try:
            return EXACT.divide(scaled, self.whole)
        except (Inexact, Rounded):
            return round_unit(ROUNDING.divide(scaled, self.whole))

    def _money_at(self, value: Decimal, reached: Decimal, minor_unit: int) -> Decimal:
        if reached == self.whole:
            return value
        if reached == 0:
            return ZERO
        return round_money(ROUNDING.divide(EXACT.multiply(value, reached), self.whole),
                           minor_unit)


def _done_text(done: Sequence[tuple[str, Decimal]]) -> str:
    return ", ".join(f"{rid} {fmt_qty(q)}" for rid, q in done)


def portion_of(view: LedgerView, ev: Reversal, original: Event) -> Portion:
    """What ``ev`` takes back of ``original``; refuses a reversal of what was reversed in
    full already, a ``qty`` on an event that has none, and more than is left."""
    kind = original.type
    whole = reversible_qty(original)
    done = list(view.reversals_of(ev.of))
    so_far = sum((q for _, q in done), ZERO)
    by = view.reversed_by(ev.of)
    if by is not None:
        more = (f" (in full: {fmt_qty(so_far)} of {fmt_qty(whole)} reversed, by "
                f"{_done_text(done)}; nothing left)" if whole is not None and len(done) > 1
                else "")
        raise PostingError(ev.id, f"'{ev.of}' was already reversed by '{by}'{more}", "of")
    if whole is None:
        if ev.qty is not None:
            raise PostingError(ev.id, f"a {kind} cannot be reversed in part; leave out qty to "
                               f"reverse '{ev.of}' whole", "qty")
        return Portion()
    left = whole - so_far
    qty = left if ev.qty is None else ev.qty
    if qty > left:
        item = getattr(original, "item", "")
        already = (f"{fmt_qty(so_far)} reversed already ({_done_text(done)})" if done
                   else "nothing reversed yet")
        raise PostingError(ev.id, f"cannot reverse {fmt_qty(qty)} of '{ev.of}': it is a "
                           f"{kind} of {fmt_qty(whole)} {item}; {already}; "
                           f"{fmt_qty(left)} left", "qty")
    return Portion(so_far, so_far + qty, whole)


def still_owed(view: LedgerView, cleared: PendingChange) -> Decimal | None:
    """For a short issue the original cleared (issued from stock) for the event that parked
    it: how much of what was issued for that event it still wants, i.e. what was issued for
    it and not given back since by its own reversals (None: all of it, as it was not
    reversed at all)."""
    source = cleared.source
    if view.reversed_by(source) is not None:
        return ZERO
    done = reversed_so_far(view, source)
    if not done:
        return None
    parker = view.posted(source)
    whole = reversible_qty(parker.event) if parker is not None else None
    if parker is None or not whole:
        return None
    parked = sum((p.qty for p in parker.posting.pending if p.source == source
                  and p.qty > 0 and (p.item, p.location) == (cleared.item, cleared.location)),
                 ZERO)
    wanted = Portion(done, whole, whole).qty(parked)  # what its reversals left of it
    still = sum((q for s, q in view.pending_at(cleared.item, cleared.location) if s == source),
                ZERO)
    return max(ZERO, wanted - still)


def take_part(e: EntryMaker, part: Portion, entries: Sequence[JournalEntry], of: str,
              minor_unit: int) -> None:
    """The non-inventory lines of a partial reversal: each account's net over the original's
    entries (sequential tracking's WIP nets to zero within an event, and stays so), its
    part taken back and negated; the content relieved to COGS likewise."""
    totals: dict[tuple[Role | None, str, str | None], Decimal] = {}
    memos: dict[tuple[Role | None, str, str | None], list[str]] = {}
    material = conversion = ZERO
    for entry in entries:
        for line in entry.lines:
            if line.role not in HOLDING_ROLES and line.role is not Role.ROUNDING:
                key = (line.role, line.account, line.family)
                totals[key] = totals.get(key, ZERO) + line.net
                if line.memo:
                    memos.setdefault(key, []).append(line.memo)
        material += entry.cogs_material
        conversion += entry.cogs_conversion
    for (role, account, family), net in totals.items():
        memo = "; ".join(dict.fromkeys(memos.get((role, account, family), [])))
        e.add_money(role, -part.money(net, minor_unit), f"reverses {of}: {memo}".rstrip(": "),
                    account=account, family=family)
    e.cogs_material -= part.money(material, minor_unit)
    e.cogs_conversion -= part.money(conversion, minor_unit)
