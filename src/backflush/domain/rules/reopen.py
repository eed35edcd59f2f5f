"""Reopening a closed period: an explicit action on the record (who, why), never a silent
one. Only the latest closed period can be reopened (a later close stands on it); its close
entries stay in the journal, so a close run again afterwards disposes of what was posted
since. The event itself is the audit trail; the journal gets an entry only when the close
posted a GAAP bridge: it is withdrawn (negated on the period's last day, and its reversal on
the next), so that the books of the reopened period are at standard again and a new close
bridges them afresh."""

from __future__ import annotations

from datetime import timedelta

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Reopen, period_bounds
from backflush.domain.rules.context import RuleContext
from backflush.domain.rules.gaap import BRIDGE, REVERSAL


def reopen(ctx: RuleContext, ev: Reopen) -> Draft:
    _, end = period_bounds(ev.period)
    locked = ctx.view.locked_through
    if locked is None or locked < end:
        raise PostingError(ev.id, f"{ev.period} is not closed; there is nothing to reopen",
                           "period")
    if locked > end:
        raise PostingError(ev.id, f"a later period is closed (through {locked}): reopen "
                           "the latest closed period first", "period")
    if ev.date <= end or ev.date > end + timedelta(days=366):
        raise PostingError(ev.id, f"a reopen of {ev.period} is dated after the period (the "
                           "day after it ends by default)", "date")
    who = f" by {ev.by}" if ev.by else ""
    d = DraftMaker(ctx.books)
    closed_by = ctx.view.closed_by(ev.period)
    posted = ctx.view.posted(closed_by) if closed_by is not None else None
    for entry in posted.posting.entries if posted is not None else ():
        if entry.type not in (BRIDGE, REVERSAL):
            continue
        e = d.entry(entry.type, f"GAAP bridge of {ev.period} withdrawn: the period is "
                    "reopened", when=entry.date)
        for line in entry.lines:
            e.add_money(line.role, -line.net, f"withdrawn: {line.memo}", account=line.account,
                        family=line.family)
    d.alert("period_reopened", f"{ev.period} reopened{who}: {ev.reason}")
    return d.draft(reopens=ev.period)
