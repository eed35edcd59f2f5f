"""Key figures of the shop floor (issue 16, item 7), worked out from the events posted, every
reversed event and every reversal left out:

* **scrap and defect rate** by made item: units scrapped at completion ÷ units completed and
  scrapped; by purchased item: quantity scrapped ÷ quantity backflushed and scrapped; by work
  center: the units completed and scrapped by the completions that pass through it (the work
  centers of their reported hours, else those of the item's standard routing);
* **supplier price performance**: what each supplier's receipts cost at the invoice against
  the same quantities at the standards they were received at (positive: paid more);
* **on-time receipts**: of the receipts that carry a ``due`` date, by supplier, how many
  arrived on or before it, and the days the late ones were late;
* **orders**: released orders (``release`` events), those a completion names (``order``),
  the days from release to the last completion (average and longest), and how many were
  completed by their due date;
* **inventory turnover** over the window: cost of goods sold ÷ the average of the inventory
  at its start and at its end (as the books value it); and the same a year (× 365 ÷ the
  window's days; an open end is the first or last event's day).

Rates and ratios are decimals rounded to 4 places, half-up; money to the currency's unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from backflush.domain.costs import CostVersion, StandardCost
from backflush.domain.events import Completion, Event, Receipt, Release, Scrap
from backflush.domain.numbers import ZERO, mul, round_money
from backflush.domain.policy import Role
from backflush.domain.rules.gaap import BRIDGE, REVERSAL
from backflush.domain.rules.portion import Portion
from backflush.service_layer.ports import MasterStore, StoredEvent
from backflush.service_layer.reports import Window
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

PLACES = Decimal("0.0001")


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(PLACES, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ScrapRate:
    item: str
    good: Decimal  # completed (made) or backflushed (purchased)
    scrapped: Decimal
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class CenterScrap:
    work_center: str
    good: Decimal  # units completed by completions passing through it
    scrapped: Decimal
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class Deliveries:
    """A supplier's receipts that carry a due date."""

    supplier: str
    with_due: int
    on_time: int  # received on or before the due date
    days_late: int  # summed over the late ones

    @property
    def on_time_rate(self) -> Decimal | None:
        return ratio(Decimal(self.on_time), Decimal(self.with_due))

    @property
    def average_days_late(self) -> Decimal | None:
        """Of the late receipts."""
        return ratio(Decimal(self.days_late), Decimal(self.with_due - self.on_time))


@dataclass(frozen=True, slots=True)
class SupplierPrices:
    supplier: str
    receipts: int
    at_invoice: Decimal
    at_standard: Decimal

    @property
    def variance(self) -> Decimal:
        return self.at_invoice - self.at_standard

    @property
    def variance_rate(self) -> Decimal | None:
        return ratio(self.variance, self.at_standard)


@dataclass(frozen=True, slots=True)
class Orders:
    released: int
    completed: int  # named by at least one completion
    on_time: int  # last completion on or before the due date (orders with one)
    with_due: int
    cycle_days: Decimal | None  # average, release to last completion
    longest_cycle_days: int | None = None


@dataclass(frozen=True)
class Kpis:
    window: Window
    scrap: list[ScrapRate]
    suppliers: list[SupplierPrices]
    orders: Orders
    inventory_turnover: Decimal | None
    cost_of_goods_sold: Decimal
    average_inventory: Decimal
    work_centers: list[CenterScrap]
    deliveries: list[Deliveries]
    days: int | None  # the window's days (None: no event to bound an open end)
    annual_turnover: Decimal | None


def kpis(uow: UnitOfWork, window: Window) -> Kpis:
    master = uow.master
    minor = master.policy().minor_unit
    made: dict[str, list[Decimal]] = {}  # item -> [good, scrapped]
    parts: dict[str, list[Decimal]] = {}
    suppliers: dict[str, list[Decimal]] = {}  # supplier -> [receipts, invoice, standard]
    centers: dict[str, list[Decimal]] = {}  # work center -> [good, scrapped]
    deliveries: dict[str, list[int]] = {}  # supplier -> [with due, on time, days late]
    first: date | None = None
    releases: dict[str, Release] = {}
    last_done: dict[str, date] = {}
    versions: dict[int, CostVersion] = {}
    taken_back = uow.events.reversed_quantities()  # partial reversals count their share
    for stored in uow.events.all():
        event = stored.event
        first = event.date if first is None else min(first, event.date)
        if stored.reversed_by is not None or event.type == "reversal":
            continue
        good, scrapped = left_of(event, taken_back.get(event.id, ZERO))
        if isinstance(event, Release):
            releases[event.id] = event
        if event.date not in window:
            continue
        if isinstance(event, Completion):
            row = made.setdefault(event.item, [ZERO, ZERO])
            row[0] += good
            row[1] += scrapped
            standard = _costs(master, versions, stored.cost_version).costs.get(event.item)
            for wc in work_centers(event, standard):
                row = centers.setdefault(wc, [ZERO, ZERO])
                row[0] += good
                row[1] += scrapped
            if event.order:
                last_done[event.order] = max(event.date, last_done.get(event.order, event.date))
            taken = Portion(ZERO, event.qty - good, event.qty) if good != event.qty else None
            for m in _backflushed(uow, stored):
                parts.setdefault(m[0], [ZERO, ZERO])[0] += (
                    m[1] if taken is None else m[1] - taken.qty(m[1]))
        elif isinstance(event, Scrap):
            parts.setdefault(event.item, [ZERO, ZERO])[1] += event.qty
        elif isinstance(event, Receipt):
            std = _costs(master, versions, stored.cost_version)[event.item].unit_cost
            row = suppliers.setdefault(event.supplier or "(none)", [ZERO, ZERO, ZERO])
            row[0] += 1
            row[1] += round_money(mul(good, event.unit_price), minor)
            row[2] += round_money(mul(good, std), minor)
            if event.due is not None:
                late = deliveries.setdefault(event.supplier or "(none)", [0, 0, 0])
                late[0] += 1
                if event.date <= event.due:
                    late[1] += 1
                else:
                    late[2] += (event.date - event.due).days
    scrap = [ScrapRate(item, good, scrapped, ratio(scrapped, good + scrapped))
             for item, (good, scrapped) in sorted({**parts, **made}.items()) if scrapped]
    prices = [SupplierPrices(name, int(n), invoice, standard)
              for name, (n, invoice, standard) in sorted(suppliers.items())]
    in_window = {k: r for k, r in releases.items() if r.date in window}
    done = {k: d for k, d in last_done.items() if k in in_window}
    due = [k for k, r in in_window.items() if r.due is not None and k in done]
    on_time = sum(1 for k in due if done[k] <= (in_window[k].due or done[k]))
    cycle = ratio(Decimal(sum((done[k] - in_window[k].date).days for k in done)),
                  Decimal(len(done))) if done else None
    longest = max((done[k] - in_window[k].date).days for k in done) if done else None
    orders = Orders(len(in_window), len(done), on_time, len(due), cycle, longest)
    cogs, average = _turnover(uow, window)
    turnover = ratio(cogs, average) if average > 0 else None
    days = window_days(window, first, uow.events.last_date())
    annual = ratio(cogs * 365, average * days) if turnover is not None and days else None
    return Kpis(window, scrap, prices, orders, turnover, cogs, average,
                [CenterScrap(wc, good, scrapped, ratio(scrapped, good + scrapped))
                 for wc, (good, scrapped) in sorted(centers.items())],
                [Deliveries(name, n, on, late) for name, (n, on, late)
                 in sorted(deliveries.items())], days, annual)


def left_of(event: Event, reversed_qty: Decimal) -> tuple[Decimal, Decimal]:
    """What a completion (good, scrapped units) or receipt (qty, 0) still stands for, less
    the part reversals took back (a completion's scrap in proportion to its good units, as
    the reversal itself takes it: :class:`~backflush.domain.rules.portion.Portion`)."""
    qty = getattr(event, "qty", ZERO)
    scrap = getattr(event, "scrap_qty", ZERO)
    if not reversed_qty or not qty:
        return qty, scrap
    return qty - reversed_qty, scrap - Portion(ZERO, reversed_qty, qty).qty(scrap)


def work_centers(event: Completion, standard: StandardCost | None) -> list[str]:
    """The work centers a completion passed through: those it reported hours at, else the
    ones its item's standard routing (phantoms exploded through) has hours at."""
    if event.hours:
        return [wc for wc, _ in event.hours]
    return [wc for wc, h in standard.hours if h > 0] if standard is not None else []


def window_days(window: Window, first: date | None, last: date | None) -> int | None:
    """The days ``window`` covers, both ends counted; an open start is ``first`` (the first
    event's day), an open end ``last`` (None when nothing bounds it)."""
    start = window.start or first
    end = window.end or last
    if start is None or end is None or end < start:
        return None
    return (end - start).days + 1


def _costs(master: MasterStore, versions: dict[int, CostVersion], number: int) -> CostVersion:
    if number not in versions:
        versions[number] = master.cost_version(number)
    return versions[number]


def _backflushed(uow: UnitOfWork, stored: StoredEvent) -> list[tuple[str, Decimal]]:
    """(component, qty) a completion took from stock (its share, when it is in a summary)."""
    if stored.summary is not None:
        moves = StoreView(uow).share(stored).moves
    else:
        moves = tuple(uow.stock.moves_of(stored.seq))
    return [(m.item, -m.qty) for m in moves if m.kind == "backflush"]


def _turnover(uow: UnitOfWork, window: Window) -> tuple[Decimal, Decimal]:
    policy = uow.master.policy()
    inventory = {policy.name(r) for r in (Role.MATERIALS, Role.FINISHED_GOODS,
                                          Role.RAW_MATERIALS, Role.WORK_IN_PROCESS)}
    cogs_name = policy.name(Role.COST_OF_GOODS_SOLD)
    start = window.start - timedelta(days=1) if window.start else None
    cogs = opening = closing = ZERO
    for s in uow.journal.entries():
        entry = s.entry
        if entry.type in (BRIDGE, REVERSAL):
            continue
        for ln in entry.lines:
            if ln.account in inventory:
                if start is not None and entry.date <= start:
                    opening += ln.net
                if window.end is None or entry.date <= window.end:
                    closing += ln.net
            elif ln.account == cogs_name and entry.date in window:
                cogs += ln.net
    return cogs, round_money((opening + closing) / 2, policy.minor_unit)
