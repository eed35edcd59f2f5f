"""Reversals: the exact negation of an earlier event's effects (posting-rules §3)."""

from __future__ import annotations

from decimal import Decimal

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Reversal
from backflush.domain.numbers import ZERO, fmt_qty
from backflush.domain.policy import Role
from backflush.domain.rules.context import RuleContext
from backflush.domain.rules.portion import portion_of, still_owed, take_part
from backflush.domain.valuation import HOLDING_ROLES

NOT_REVERSIBLE = ("reversal", "close", "reopen", "cost_change", "rate_change", "opening")


def reversal(ctx: RuleContext, ev: Reversal) -> Draft:
    """Negates the original's stock moves, parked issues and non-inventory lines, referencing
    it; the inventory lines are the valuation of the negated moves at the standards in force.
    What that leaves is booked as a rounding difference, or as a revaluation when the
    standards changed since the original was posted. The original's own rounding line is not
    negated but worked out afresh: so a reversal is the same whether the original was posted
    in an entry of its own or in a summary. With ``qty`` (or after partial reversals), the
    part taken back is that share of every quantity and amount (:mod:`.portion`)."""
    view = ctx.view
    original = view.posted(ev.of)
    if original is None:
        raise PostingError(ev.id, f"there is no posted event '{ev.of}' to reverse", "of")
    kind = original.event.type
    if kind in NOT_REVERSIBLE:
        raise PostingError(ev.id, f"a {kind} cannot be reversed; post a new event instead", "of")
    part = portion_of(view, ev, original.event)
    minor = ctx.policy.minor_unit
    d = DraftMaker(ctx.books)
    e = d.entry("reversal", f"Reversal of {ev.of} ({kind})" + (
        "" if part.entire else f": {fmt_qty(part.taken)} of {fmt_qty(part.whole)}"))
    if original.posting.cost_version != ctx.costs.number:
        e.balance(Role.REVALUATION_VARIANCE, "standards changed since the original was posted")
    if part.entire:
        for entry in original.posting.entries:
            for line in entry.lines:
                if line.role not in HOLDING_ROLES and line.role is not Role.ROUNDING:
                    e.add_money(line.role, -line.net,
                                f"reverses {ev.of}: {line.memo}".rstrip(": "),
                                account=line.account, family=line.family)
            e.cogs_material -= entry.cogs_material
            e.cogs_conversion -= entry.cogs_conversion
    else:
        take_part(e, part, original.posting.entries, ev.of, minor)
    memo = f"reverses {ev.of}"
    # Short issues this event cleared for a completion that has since been reversed (in
    # part): that reversal already gave the quantity back, so they are not undone a second
    # time; what the completion still wants is parked again.
    settled: dict[tuple[str, str], Decimal] = {}
    source = original.event.id
    for p in original.posting.pending:
        share = part.qty(p.qty)
        owed = still_owed(view, p) if p.qty < 0 else None
        if p.qty > 0 and p.source == source:  # parked by this completion
            still = min(sum((q for s, q in view.pending_at(p.item, p.location) if s == source),
                            ZERO), share)
            if still:
                d.park(p.item, p.location, -still, source, e)
            if share - still:  # cleared since: it was issued from stock, which comes back
                d.move(p.item, p.location, share - still, "reversal", e, memo)
        elif owed is not None:  # its completion has been reversed (in part) since
            key = (p.item, p.location)
            again = min(-share, owed)  # what it still wants is parked again
            settled[key] = settled.get(key, ZERO) - share - again
            if again:
                d.park(p.item, p.location, again, p.source, e)
        elif share:
            d.park(p.item, p.location, -share, p.source, e)
    for m in original.posting.moves:
        qty = part.qty(m.qty)
        if m.kind == "backflush" and kind != "completion":
            key = (m.item, m.location)
            skip = min(settled.get(key, ZERO), -qty)
            settled[key] = settled.get(key, ZERO) - skip
            qty += skip
        if qty:
            d.move(m.item, m.location, -qty, "reversal", e, memo)
    return d.draft()
