"""Reopening a closed period: an explicit action on the record (who, why), never a silent
one. Only the latest closed period can be reopened (a later close stands on it); its close
entries stay in the journal, so a close run again afterwards disposes of what was posted
since. Nothing is written to the journal: the event itself is the audit trail."""

from __future__ import annotations

from datetime import timedelta

from backflush.domain.drafts import Draft
from backflush.domain.errors import PostingError
from backflush.domain.events import Reopen, period_bounds
from backflush.domain.rules.context import RuleContext


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
    return Draft(alerts=(("period_reopened", f"{ev.period} reopened{who}: {ev.reason}"),),
                 reopens=ev.period)
