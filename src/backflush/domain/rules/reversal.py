"""Reversals: the exact negation of an earlier event's effects (posting-rules §3)."""

from __future__ import annotations

from decimal import Decimal

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Reversal
from backflush.domain.numbers import ZERO
from backflush.domain.policy import Role
from backflush.domain.rules.context import RuleContext
from backflush.domain.valuation import HOLDING_ROLES

NOT_REVERSIBLE = ("reversal", "close", "reopen", "cost_change", "rate_change", "opening")


def reversal(ctx: RuleContext, ev: Reversal) -> Draft:
    """Negates the original's stock moves, parked issues and non-inventory lines, referencing
    it; the inventory lines are the valuation of the negated moves at the standards in force.
    What that leaves is booked as a rounding difference, or as a revaluation when the
    standards changed since the original was posted. The original's own rounding line is not
    negated but worked out afresh: so a reversal is the same whether the original was posted
    in an entry of its own or in a summary."""
    view = ctx.view
    original = view.posted(ev.of)
    if original is None:
        raise PostingError(ev.id, f"there is no posted event '{ev.of}' to reverse", "of")
    kind = original.event.type
    if kind in NOT_REVERSIBLE:
        raise PostingError(ev.id, f"a {kind} cannot be reversed; post a new event instead", "of")
    by = view.reversed_by(ev.of)
    if by is not None:
        raise PostingError(ev.id, f"'{ev.of}' was already reversed by '{by}'", "of")
    d = DraftMaker(ctx.books)
    e = d.entry("reversal", f"Reversal of {ev.of} ({kind})")
    if original.posting.cost_version != ctx.costs.number:
        e.balance(Role.REVALUATION_VARIANCE, "standards changed since the original was posted")
    for entry in original.posting.entries:
        for line in entry.lines:
            if line.role not in HOLDING_ROLES and line.role is not Role.ROUNDING:
                e.add_money(line.role, -line.net,
                            f"reverses {ev.of}: {line.memo}".rstrip(": "),
                            account=line.account, family=line.family)
        e.cogs_material -= entry.cogs_material
        e.cogs_conversion -= entry.cogs_conversion
    memo = f"reverses {ev.of}"
    # Short issues this event cleared for a completion that has since been reversed: that
    # reversal already gave the quantity back, so they are not undone a second time.
    settled: dict[tuple[str, str], Decimal] = {}
    source = original.event.id
    for p in original.posting.pending:
        if p.qty > 0 and p.source == source:  # parked by this completion
            still = min(sum((q for s, q in view.pending_at(p.item, p.location) if s == source),
                            ZERO), p.qty)
            if still:
                d.park(p.item, p.location, -still, source, e)
            if p.qty - still:  # cleared since: it was issued from stock, which comes back
                d.move(p.item, p.location, p.qty - still, "reversal", e, memo)
        elif p.qty < 0 and view.reversed_by(p.source) is not None:
            key = (p.item, p.location)
            settled[key] = settled.get(key, ZERO) - p.qty
        else:
            d.park(p.item, p.location, -p.qty, p.source, e)
    for m in original.posting.moves:
        qty = m.qty
        if m.kind == "backflush" and kind != "completion":
            key = (m.item, m.location)
            skip = min(settled.get(key, ZERO), -qty)
            settled[key] = settled.get(key, ZERO) - skip
            qty += skip
            if qty == 0:
                continue
        d.move(m.item, m.location, -qty, "reversal", e, memo)
    return d.draft()
