"""Parked short issues cleared when stock arrives (negative stock ``queue``)."""

from __future__ import annotations

from decimal import Decimal

from backflush.domain.drafts import DraftMaker
from backflush.domain.numbers import ZERO
from backflush.domain.rules.context import RuleContext


def clear_pending(ctx: RuleContext, d: DraftMaker, item: str, location: str,
                  available: Decimal) -> None:
    """Issue what is parked for ``item`` at ``location``, oldest first, out of ``available``
    (what is on hand there once the event's own stock has arrived), in an entry of its own:
    Dr Pending Backflush Clearing, Cr the item's account."""
    queue = list(ctx.view.pending_at(item, location))
    if not queue or available <= ZERO:
        return
    entry = d.entry("pending_cleared", f"Pending backflush of {item} cleared")
    for source, qty in queue:
        if available <= 0:
            break
        take = min(qty, available)
        available -= take
        d.move(item, location, -take, "backflush", entry, f"{item} issued to {source}")
        d.park(item, location, -take, source, entry)
