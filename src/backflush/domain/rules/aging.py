"""The pending-age alert of one event (:class:`backflush.domain.alerts.QueueAges`): the
issues of the queue its date makes ``pending_age_days`` old, those it parks included."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from backflush.domain.alerts import Issue, QueueAges
from backflush.domain.drafts import Draft
from backflush.domain.events import Event
from backflush.domain.numbers import ZERO
from backflush.domain.rules.context import RuleContext


def with_queue_age(ctx: RuleContext, event: Event, draft: Draft) -> Draft:
    """``draft`` with the pending-age alerts of ``event`` added (after its own)."""
    thresholds = ctx.policy.alerts
    if thresholds.pending_age_days is None:
        return draft
    parked: list[Issue] = [(p.item, p.location, p.source, event.date)
                           for p in draft.parks if p.qty > 0]
    pending = ctx.view.pending_issues()
    if not pending and not parked:
        return draft
    left: dict[tuple[str, str, str], Decimal] = {}
    for item, loc, src, _, qty in pending:
        left[item, loc, src] = left.get((item, loc, src), ZERO) + qty
    for p in draft.parks:
        if p.qty < 0:
            key = (p.item, p.location, p.source)
            left[key] = left.get(key, ZERO) + p.qty
    cleared = frozenset(key for key, qty in left.items() if qty <= 0)
    queue = [(item, loc, src, since) for item, loc, src, since, _ in pending]
    raised = QueueAges(thresholds, queue, ctx.view.last_date()).step(event.date, parked,
                                                                   cleared)
    return replace(draft, alerts=(*draft.alerts, *raised)) if raised else draft
