"""A closed period's figures: its balances after the close, the same after the GAAP bridge,
and its income statements, absorption and throughput side by side (posting-rules §7).

Absorption is what the books say: sales less cost of goods sold (after the close's
disposals) less what the policy expenses outright (conversion under ``conversion:
expensed``, abnormal scrap, rounding differences). Throughput treats all conversion as a
period cost:

    throughput operating income = absorption operating income
                                  − (conversion carried in stock at the end − at the start)

where conversion carried is the book value of stock less its standard material content, plus
the conversion variances capitalized beside it, each day at the cost version in force then. The
throughput statement shows sales, materials (the truly variable cost), throughput,
conversion incurred in the period and the operating income. With the GAAP bridge, a third
statement is the absorption one after the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from backflush.domain.events import Close, period_bounds
from backflush.domain.numbers import ZERO
from backflush.domain.policy import Role
from backflush.domain.rules.gaap import BRIDGE, REVERSAL
from backflush.domain.valuation import Books, value_of
from backflush.service_layer.reports import chart_order
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

# Accounts whose balance is income or expense (the rest are the balance sheet's).
EXPENSES = (Role.COST_OF_GOODS_SOLD, Role.CONVERSION_EXPENSE, Role.ROUNDING,
            Role.ABNORMAL_SCRAP)


@dataclass(frozen=True, slots=True)
class Absorption:
    sales: Decimal
    cost_of_goods_sold: Decimal
    conversion_expensed: Decimal
    other: Decimal  # other period costs: abnormal scrap, rounding differences
    operating_income: Decimal


@dataclass(frozen=True, slots=True)
class Throughput:
    sales: Decimal
    materials: Decimal
    throughput: Decimal
    conversion: Decimal
    other: Decimal
    operating_income: Decimal


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    period: str
    balances: list[tuple[str, Decimal]]  # at the period's end after the close, chart order
    gaap_balances: list[tuple[str, Decimal]] | None  # the same after the GAAP bridge
    absorption: Absorption
    throughput: Throughput
    gaap: Absorption | None  # absorption after the GAAP bridge
    carried: tuple[Decimal, Decimal]  # conversion carried in stock at the start, at the end


def books_on(uow: UnitOfWork, day: date) -> Books:
    """The books with the cost version in force at the end of ``day`` (the latest one in
    effect by then; the first before any)."""
    master = uow.master
    current = master.costs()
    version = current
    for number in range(current.number, 0, -1):
        version = current if number == current.number else master.cost_version(number)
        if version.effective_from <= day:
            break
    return Books(master.master(), master.policy(), version)


def closed_periods(uow: UnitOfWork) -> list[str]:
    """The periods closed now (a reopened one not closed again is not), in order."""
    return [f"{end.year:04d}-{end.month:02d}" for end in uow.master.closed_periods()]


def period_figures(uow: UnitOfWork, period: str) -> PeriodFigures:
    start, end = period_bounds(period)
    policy = uow.master.policy()
    balances: dict[str, Decimal] = {}
    net: dict[str, Decimal] = {}  # the period's movements, the bridge left out
    bridge: dict[str, Decimal] | None = None
    control = policy.name(Role.CONVERSION_CONTROL)
    conversion = ZERO  # incurred in the period: Control's movements, its close left out
    for stored in uow.journal.entries():
        entry = stored.entry
        if entry.date > end:
            continue
        if entry.type == REVERSAL:
            continue
        if entry.type == BRIDGE:
            if entry.date == end:  # (a reopen withdraws a bridge, a new close bridges again)
                bridge = {} if bridge is None else bridge
                for ln in entry.lines:
                    bridge[ln.account] = bridge.get(ln.account, ZERO) + ln.net
            continue
        for ln in entry.lines:
            balances[ln.account] = balances.get(ln.account, ZERO) + ln.net
            if entry.date >= start:
                net[ln.account] = net.get(ln.account, ZERO) + ln.net
                if ln.account == control and entry.type != "close":
                    conversion += ln.net
    order = chart_order(uow)

    def ordered(values: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
        rows = [(a, b) for a, b in values.items() if b]
        return sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))

    absorption = _absorption(uow, net)
    view = StoreView(uow)
    before = start - timedelta(days=1)
    carried = (_carried(books_on(uow, before), view, before),
               _carried(books_on(uow, end), view, end))
    conversion += net.get(policy.name(Role.CONVERSION_EXPENSE), ZERO)
    income = absorption.operating_income - (carried[1] - carried[0])
    throughput = income + conversion + absorption.other
    if not _bridge_asked(uow, period):
        bridge = None
    elif bridge is None:
        bridge = {}  # asked for, and nothing to adjust: GAAP is the books
    gaap = gaap_balances = None
    if bridge is not None:
        gaap_balances = ordered({a: balances.get(a, ZERO) + bridge.get(a, ZERO)
                                 for a in {*balances, *bridge}})
        gaap = _absorption(uow, {a: net.get(a, ZERO) + bridge.get(a, ZERO)
                                 for a in {*net, *bridge}})
    return PeriodFigures(
        period, ordered(balances), gaap_balances, absorption,
        Throughput(absorption.sales, absorption.sales - throughput, throughput, conversion,
                   absorption.other, income),
        gaap, carried)


def _bridge_asked(uow: UnitOfWork, period: str) -> bool:
    """Did the close that stands for the period ask for the GAAP bridge?"""
    closed_by = uow.master.closed_by(period)
    stored = uow.events.get(closed_by) if closed_by is not None else None
    return stored is not None and isinstance(stored.event, Close) and stored.event.gaap_bridge


def _absorption(uow: UnitOfWork, net: dict[str, Decimal]) -> Absorption:
    policy = uow.master.policy()
    sales = -net.get(policy.name(Role.SALES), ZERO)
    cogs_name, expensed_name = policy.name(Role.COST_OF_GOODS_SOLD), policy.name(
        Role.CONVERSION_EXPENSE)
    cogs = net.get(cogs_name, ZERO)
    expensed = net.get(expensed_name, ZERO) if expensed_name != cogs_name else ZERO
    # (an account two roles share is counted once)
    others = {policy.name(r) for r in EXPENSES[2:]} - {cogs_name, expensed_name}
    other = sum((net.get(name, ZERO) for name in others), ZERO)
    return Absorption(sales, cogs, expensed, other, sales - cogs - expensed - other)


def _carried(books: Books, view: StoreView, day: date) -> Decimal:
    """Conversion in the stock the books hold at the end of ``day``, capitalized conversion
    variances included."""
    minor = books.policy.minor_unit
    total = ZERO
    for code, qty in view.stock_totals(day).items():
        if code not in books.master.items or books.role(code) is None:
            continue
        material, _ = books.content(code)
        total += books.valuation(code, qty) - value_of(material, minor, qty)
    for role in (Role.MATERIALS_CAPITALIZED_VARIANCES,
                 Role.FINISHED_GOODS_CAPITALIZED_VARIANCES):
        total += view.family_balance("conversion", books.name(role), day)
    return total
