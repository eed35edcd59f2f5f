"""The pending queue: issues a completion could not take from stock (``negative_stock:
queue``), parked until stock arrives at their location, oldest first.

Each is short stock by nature (closed periods, unknown items or units and locked rows are
refused, never parked) and blocks the close of its period: a close is refused while issues
are pending unless forced (docs/accounting.md). Its age is counted in days from the
completion's date to the latest event of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

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
