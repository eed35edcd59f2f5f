"""Variances by item, supplier, work center or event: each variance line of the journal
traced to the event that posted it, and summed by that event's item, supplier or work
centers, or listed by the event itself (the drill-down to the events behind a figure).

Every figure comes from the entries the posting rules made: an event posted on its own is
read back from the journal; an event posted in a summary gets its share worked out again
by the same rules (as ``explain`` shows it). A reversal counts against its original's item.
What no event carries is shown as its own row, so the rows of a family always add up to
:func:`~backflush.service_layer.reports.variance_report`'s figure (both sum the journal's
lines by :func:`~backflush.service_layer.reports.family_totals`):

* conversion incurred against conversion applied (spending and volume together) belongs to
  the plant, not to an item: the row ``(conversion incurred - applied)``; only the
  efficiency variance (reported hours against standard hours) goes to items and work
  centers;
* the cents by which a day's summary entry differs from the sum of its events' shares
  (each rounded on its own): the row ``(summary rounding)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from backflush.domain.events import Completion, Event, Receipt, Reversal
from backflush.domain.journal import JournalEntry
from backflush.domain.numbers import ZERO
from backflush.domain.policy import FAMILIES, FAMILY_ROLES, Role
from backflush.service_layer.reports import ALL, CLOSING, Window, family_totals
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

DIMENSIONS = ("item", "supplier", "work-center", "event")
PLANT = "(conversion incurred - applied)"
ROUNDING = "(summary rounding)"
NONE = "(none)"


@dataclass(frozen=True, slots=True)
class VarianceRow:
    family: str
    key: str  # the item, supplier or work center(s); or one of the rows above
    amount: Decimal
    events: int  # how many events posted to it


def _key(event: Event, dimension: str) -> str:
    if dimension == "event":
        return event.id
    if dimension == "item":
        return str(getattr(event, "item", "")) or NONE
    if dimension == "supplier":
        return (event.supplier or NONE) if isinstance(event, Receipt) else NONE
    if isinstance(event, Completion) and event.hours:
        return "; ".join(sorted(wc for wc, _ in event.hours))
    return NONE


def variances_by(uow: UnitOfWork, dimension: str, window: Window = ALL) -> list[VarianceRow]:
    """The variances over ``window`` by ``dimension`` (one of :data:`DIMENSIONS`), largest
    first within each family, families in the order of :data:`FAMILIES`."""
    policy = uow.master.policy()
    family_of = {policy.name(role): family for family in FAMILIES
                 for role in FAMILY_ROLES[family]}
    efficiency = policy.name(Role.CONVERSION_EFFICIENCY_VARIANCE)
    per_event: dict[str, list[JournalEntry]] = {}
    net: dict[str, Decimal] = {}  # every entry's lines but the closes': the families' totals
    for stored_entry in uow.journal.entries():
        entry = stored_entry.entry
        if entry.date not in window or entry.type in CLOSING:
            continue
        for line in entry.lines:
            net[line.account] = net.get(line.account, ZERO) + line.net
        if entry.type != "summary":
            per_event.setdefault(entry.event_id, []).append(entry)
    view = StoreView(uow)
    sums: dict[tuple[str, str], list[Decimal | int]] = {}

    def add(family: str, key: str, amount: Decimal) -> None:
        row = sums.setdefault((family, key), [ZERO, 0])
        row[0] += amount
        row[1] += 1

    for stored in uow.events.all():
        event = stored.event
        if event.date not in window or event.type == "close":
            continue
        entries: Iterable[JournalEntry] = (
            view.share(stored).entries if stored.summary is not None
            else per_event.get(event.id, ()))
        owner = event
        if isinstance(event, Reversal) and dimension != "event":
            original = uow.events.get(event.of)
            owner = original.event if original is not None else event
        touched: dict[tuple[str, str], Decimal] = {}
        for entry in entries:
            for line in entry.lines:
                family = family_of.get(line.account)
                if family is None:
                    continue
                key = PLANT if family == "conversion" and line.account != efficiency \
                    else _key(owner, dimension)
                touched[family, key] = touched.get((family, key), ZERO) + line.net
        for (family, key), amount in touched.items():
            add(family, key, amount)
    totals = family_totals(policy, net)
    rows: list[VarianceRow] = []
    for family in FAMILIES:
        mine = [VarianceRow(f, k, Decimal(a), int(n)) for (f, k), (a, n) in sums.items()
                if f == family and a != 0]
        rest = totals.get(family, ZERO) - sum((r.amount for r in mine), ZERO)
        if rest:
            mine.append(VarianceRow(family, ROUNDING, rest, 0))
        rows += sorted(mine, key=lambda r: (-abs(r.amount), r.key))
    return rows
