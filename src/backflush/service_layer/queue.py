"""The queue: issues a completion could not take from stock (``negative_stock: queue``),
parked until stock arrives at their location, oldest first; and completions held unposted
(``failed_backflush: hold``, domain.held) until they are retried.

A parked issue is short stock by nature and blocks the close of its period; a held
completion says why it failed (short stock, closed period, unknown item or unit) and blocks
the close unless its period is closed already. Ages are counted in days from the
completion's date to the latest event of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from backflush.domain.numbers import ZERO, add
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork

REASON = "short stock"


@dataclass(frozen=True, slots=True)
class PendingIssue:
    event: str  # the completion that is owed the component
    item: str
    location: str
    qty: Decimal
    since: date | None  # the completion's date
    age_days: int
    reason: str = REASON
    blocks_close: bool = True


def pending_issues(uow: UnitOfWork) -> list[PendingIssue]:
    queue = uow.stock.pending_queue()
    latest = uow.events.last_date() if queue else None  # (a scan of the log: only if need be)
    out = []
    for item, location, source, qty in queue:
        stored = uow.events.get(source)
        since = stored.event.date if stored is not None else None
        age = (latest - since).days if latest is not None and since is not None else 0
        out.append(PendingIssue(source, item, location, qty, since, age))
    return out


def held_issues(uow: UnitOfWork) -> list[PendingIssue]:
    """The completions held unposted (domain.held), oldest first, as queue rows."""
    held = uow.floor.held()
    latest = uow.events.last_date() if held else None
    out = []
    for h in held:
        ev = h.event
        age = (latest - ev.date).days if latest is not None and latest > ev.date else 0
        out.append(PendingIssue(ev.id, str(getattr(ev, "item", "")),
                                str(getattr(ev, "location", "")),
                                add(getattr(ev, "qty", ZERO), getattr(ev, "scrap_qty", ZERO)),
                                ev.date, age, h.reason, h.blocks_close))
    return out


def queue(uow: UnitOfWork) -> list[PendingIssue]:
    """The whole queue: issues parked for stock, then completions held unposted."""
    return pending_issues(uow) + held_issues(uow)


@dataclass(frozen=True)
class Retried:
    posted: list[str]  # held completions that posted now (dated as they were, or re-dated)
    still: list[PendingIssue]  # what is still held, and why


def retry_held(uow: UnitOfWork, today: date | None = None) -> Retried:
    """Post every held completion again, oldest first, in one transaction: those that post
    leave the queue; the others stay, with the reason they fail now. One whose period has
    been closed since posts dated on the first open day (``today`` when later)."""
    with uow:
        posted = []
        for h in uow.floor.held():
            event = h.event
            locked = uow.master.locked_through()
            if locked is not None and event.date <= locked:
                event = replace(event, date=max(locked + timedelta(days=1),
                                                today or locked + timedelta(days=1)))
            uow.floor.release(h.event.id)
            result = post_events_in(uow, [event], holding=True)
            if not result.held:
                posted.append(event.id)
        still = held_issues(uow)
        uow.commit()
    return Retried(posted, still)
