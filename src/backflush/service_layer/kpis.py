"""Key figures of the shop floor (issue 16, item 7), worked out from the events posted, every
reversed event and every reversal left out:

* **scrap and defect rate** by made item: units scrapped at completion ÷ units completed and
  scrapped; by purchased item: quantity scrapped ÷ quantity backflushed and scrapped;
* **supplier price performance**: what each supplier's receipts cost at the invoice against
  the same quantities at the standards they were received at (positive: paid more);
* **orders**: released orders (``release`` events), those a completion names (``order``),
  the days from release to the last completion, and how many were completed by their due
  date;
* **inventory turnover** over the window: cost of goods sold ÷ the average of the inventory
  at its start and at its end (as the books value it).

Rates and ratios are decimals rounded to 4 places, half-up; money to the currency's unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from backflush.domain.costs import CostVersion
from backflush.domain.events import Completion, Receipt, Release, Scrap
from backflush.domain.numbers import ZERO, mul, round_money
from backflush.domain.policy import Role
from backflush.domain.rules.gaap import BRIDGE, REVERSAL
from backflush.service_layer.ports import StoredEvent
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


@dataclass(frozen=True)
class Kpis:
    window: Window
    scrap: list[ScrapRate]
    suppliers: list[SupplierPrices]
    orders: Orders
    inventory_turnover: Decimal | None
    cost_of_goods_sold: Decimal
    average_inventory: Decimal


def kpis(uow: UnitOfWork, window: Window) -> Kpis:
    master = uow.master
    minor = master.policy().minor_unit
    made: dict[str, list[Decimal]] = {}  # item -> [good, scrapped]
    parts: dict[str, list[Decimal]] = {}
    suppliers: dict[str, list[Decimal]] = {}  # supplier -> [receipts, invoice, standard]
    releases: dict[str, Release] = {}
    last_done: dict[str, date] = {}
    versions: dict[int, CostVersion] = {}
    for stored in uow.events.all():
        event = stored.event
        if stored.reversed_by is not None or event.type == "reversal":
            continue
        if isinstance(event, Release):
            releases[event.id] = event
        if event.date not in window:
            continue
        if isinstance(event, Completion):
            row = made.setdefault(event.item, [ZERO, ZERO])
            row[0] += event.qty
            row[1] += event.scrap_qty
            if event.order:
                last_done[event.order] = max(event.date, last_done.get(event.order, event.date))
            for m in _backflushed(uow, stored):
                parts.setdefault(m[0], [ZERO, ZERO])[0] += m[1]
        elif isinstance(event, Scrap):
            parts.setdefault(event.item, [ZERO, ZERO])[1] += event.qty
        elif isinstance(event, Receipt):
            if stored.cost_version not in versions:
                versions[stored.cost_version] = master.cost_version(stored.cost_version)
            costs = versions[stored.cost_version]
            std = costs[event.item].unit_cost
            row = suppliers.setdefault(event.supplier or "(none)", [ZERO, ZERO, ZERO])
            row[0] += 1
            row[1] += round_money(mul(event.qty, event.unit_price), minor)
            row[2] += round_money(mul(event.qty, std), minor)
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
    orders = Orders(len(in_window), len(done), on_time, len(due), cycle)
    cogs, average = _turnover(uow, window)
    return Kpis(window, scrap, prices, orders, ratio(cogs, average) if average > 0 else None,
                cogs, average)


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
