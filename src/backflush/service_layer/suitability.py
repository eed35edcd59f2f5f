"""Backflush suitability (issue 16, item 8): where the plant breaks the assumptions that make
backflush costing sound, each finding with its figure, the threshold it passed and a plain
explanation.

Backflush "requires an accurate production count, an accurate bill of materials, excellent
scrap reporting, a fast production cycle time". The checks, over a window of days (every
reversed event and every reversal left out):

* **turnover**: inventory turns a year (:mod:`.kpis`) below ``min_turnover``;
* **cycle_time**: a made item whose orders took on average more than ``max_cycle_days`` from
  release to their last completion (orders completed in the window);
* **open_orders**: an order still open at the window's end (its last event's day when the
  window is open-ended) and released more than ``max_cycle_days`` before: its open quantity
  × the item's standard cost in force is work in process the books do not carry, valued at
  full standard (materials and conversion: the most it can be);
* **customised**: a made item completed fewer than ``min_completions`` times in the window
  (a one-off), or **bom_versions**: with more than ``max_bom_versions`` BOM versions;
* **count_difference**: a count whose difference from the book is more than
  ``max_count_difference`` of the book (of the counted quantity when the book was zero);
* **scrap_rate**: an item or work center whose scrap rate (:mod:`.kpis`) is above
  ``max_scrap_rate``.

A finding fires strictly beyond its threshold: a figure equal to it does not fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from backflush.domain.costs import CostVersion
from backflush.domain.errors import NumberError
from backflush.domain.events import Completion, Count, Release
from backflush.domain.numbers import FACTOR, PRICE, ZERO, fmt, fmt_qty, mul, round_money, to_decimal
from backflush.service_layer.kpis import Kpis, kpis, left_of, ratio
from backflush.service_layer.reports import Window
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each check fires (strictly beyond the value). Defaults suit a lean plant."""

    min_turnover: Decimal = Decimal(12)  # inventory turns a year: about a month of stock
    max_cycle_days: int = 5  # release to completion: a working week
    min_completions: int = 2  # a made item completed once in the window is a one-off
    max_bom_versions: int = 3
    max_count_difference: Decimal = Decimal("0.05")  # share of the book
    max_scrap_rate: Decimal = Decimal("0.05")  # scrapped ÷ (good + scrapped)

    def __post_init__(self) -> None:
        for name, least in (("max_cycle_days", 0), ("min_completions", 1),
                            ("max_bom_versions", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise NumberError(f"{name}: must be a whole number from {least}", name)
        for name, limit in (("min_turnover", PRICE), ("max_count_difference", PRICE),
                            ("max_scrap_rate", FACTOR)):
            value = to_decimal(getattr(self, name), name, limit)
            if value < 0 or (name == "max_scrap_rate" and value > 1):
                raise NumberError(f"{name}: must be " + ("from 0 to 1" if name ==
                                  "max_scrap_rate" else "zero or more"), name)
            object.__setattr__(self, name, value)


def thresholds_of(given: Mapping[str, str | None], base: Thresholds | None = None
                  ) -> Thresholds:
    """``base`` (the defaults) with the values given as text by name (None: not given);
    NumberError names the threshold of a value that is not a number or out of range."""
    kinds = {f.name: f.type for f in fields(Thresholds)}
    changes: dict[str, object] = {}
    for name, text in given.items():
        if name not in kinds:
            raise NumberError(f"{name}: not a suitability threshold (one of "
                              f"{', '.join(kinds)})", name)
        if text is None:
            continue
        if kinds[name] == "int":
            stripped = text.strip()
            if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 6:
                raise NumberError(f"{name}: expected a whole number, got {text[:40]!r}", name)
            changes[name] = int(stripped)
        else:
            changes[name] = to_decimal(text, name)
    return replace(base or Thresholds(), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    subject: str  # the item, order, work center or count the finding is about ("" the plant)
    figure: Decimal
    threshold: Decimal
    unit: str
    value: Decimal | None  # money at standard, where the finding has a value
    explanation: str


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    label: str
    threshold: Decimal
    unit: str
    examined: int  # how many things it looked at
    what: str  # what those things are (items, orders, counts ...)
    findings: tuple[Finding, ...] = field(default=())
    figure: Decimal | None = None  # the plant's figure, where the check has one (turnover)


@dataclass(frozen=True)
class Suitability:
    window: Window
    as_of: date | None  # the day open orders are aged to
    thresholds: Thresholds
    checks: list[Check]

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]

    @property
    def work_in_process(self) -> Decimal:
        """The open orders' work in process the books do not carry, at standard."""
        return sum((f.value or ZERO for c in self.checks if c.code == "open_orders"
                    for f in c.findings), ZERO)


def pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'), ROUND_HALF_UP).normalize():f} %"


def suitability(uow: UnitOfWork, window: Window, limits: Thresholds | None = None
                ) -> Suitability:
    limits = limits or Thresholds()
    minor = uow.master.policy().minor_unit
    k = kpis(uow, window)
    as_of = window.end or uow.events.last_date()
    checks = [_turnover(k, limits, minor), *_orders(uow, window, as_of, limits, minor),
              *_customised(uow, window, limits), _counts(uow, window, limits, minor),
              *_scrap(k, limits)]
    return Suitability(window, as_of, limits, checks)


def _turnover(k: Kpis, limits: Thresholds, minor: int) -> Check:
    found = []
    turns = k.annual_turnover
    if turns is not None and turns < limits.min_turnover:
        found.append(Finding(
            "turnover", "", turns, limits.min_turnover, "turns a year", None,
            f"Inventory turned {fmt_qty(turns)} times a year over these {k.days} days (cost "
            f"of goods sold {fmt(k.cost_of_goods_sold, minor)} on an average inventory of "
            f"{fmt(k.average_inventory, minor)}). Backflush assumes stock moves through fast "
            f"(at least {fmt_qty(limits.min_turnover)} turns a year): stock that sits is "
            "relieved only when the product is finished, so what goes wrong on the floor "
            "surfaces late, as count differences."))
    return Check("turnover", "slow inventory turnover", limits.min_turnover, "turns a year",
                 0 if turns is None else 1, "turnover figure", tuple(found), turns)


@dataclass
class _Order:
    release: Release
    done: Decimal = ZERO  # good and scrapped units of the completions naming it
    last: date | None = None


def _orders(uow: UnitOfWork, window: Window, as_of: date | None, limits: Thresholds,
            minor: int) -> list[Check]:
    orders: dict[str, _Order] = {}
    taken_back = uow.events.reversed_quantities()  # partial reversals: what is left counts
    for stored in uow.events.all():
        event = stored.event
        if stored.reversed_by is not None or (as_of is not None and event.date > as_of):
            continue
        if isinstance(event, Release):
            orders[event.id] = _Order(event)
        elif isinstance(event, Completion) and event.order in orders:
            o = orders[event.order]
            good, scrapped = left_of(event, taken_back.get(event.id, ZERO))
            o.done += good + scrapped
            o.last = event.date if o.last is None else max(o.last, event.date)
    days = Decimal(limits.max_cycle_days)
    costs = uow.master.costs()
    cycles: dict[str, list[int]] = {}
    slow, open_found = [], []
    for ident, o in orders.items():
        r = o.release
        left = max(r.qty - o.done, ZERO)
        if left == 0 and o.last is not None and o.last in window:
            cycles.setdefault(r.item, []).append((o.last - r.date).days)
        if left > 0 and as_of is not None and (as_of - r.date).days > limits.max_cycle_days:
            age = (as_of - r.date).days
            std = costs.costs.get(r.item)
            unit = std.unit_cost if std is not None else ZERO
            value = round_money(mul(left, unit), minor)
            open_found.append(Finding(
                "open_orders", ident, Decimal(age), days, "days open", value,
                f"Order {ident} of {r.item} was released on {r.date}, {age} days before "
                f"{as_of}, and {fmt_qty(left)} of its {fmt_qty(r.qty)} are not completed. "
                f"At {r.item}'s standard cost of {fmt_qty(unit)} that is "
                f"{fmt(value, minor)} of work in process the books do not carry (full "
                "standard, materials and conversion: the most it can be); backflush "
                f"assumes orders finish within {limits.max_cycle_days} days."))
    for item, spans in sorted(cycles.items()):
        average = ratio(Decimal(sum(spans)), Decimal(len(spans)))
        if average is not None and average > days:
            slow.append(Finding(
                "cycle_time", item, average, days, "days", None,
                f"Orders of {item} took on average {fmt_qty(average)} days from release to "
                f"their last completion ({len(spans)} orders, the longest {max(spans)} "
                f"days). Backflush assumes a fast cycle (at most {limits.max_cycle_days} "
                "days): meanwhile the materials are on the floor unrelieved and the books "
                "carry no work in process."))
    return [Check("cycle_time", "long release-to-completion time", days, "days",
                  len(cycles), "items with completed orders", tuple(slow)),
            Check("open_orders", "work in process not on the books", days, "days open",
                  len(orders), "released orders", tuple(open_found))]


def _customised(uow: UnitOfWork, window: Window, limits: Thresholds) -> list[Check]:
    master = uow.master.master()
    made: dict[str, list[Decimal]] = {}  # item -> [completions, units]
    taken_back = uow.events.reversed_quantities()  # partial reversals: what is left counts
    for stored in uow.events.all():
        event = stored.event
        if (stored.reversed_by is None and isinstance(event, Completion)
                and event.date in window):
            row = made.setdefault(event.item, [ZERO, ZERO])
            row[0] += 1
            row[1] += left_of(event, taken_back.get(event.id, ZERO))[0]
    once = []
    for item, (n, units) in sorted(made.items()):
        if n < limits.min_completions:
            once.append(Finding(
                "customised", item, n, Decimal(limits.min_completions), "completions", None,
                f"{item} was completed {int(n)} time{'s' if n != 1 else ''} in these days "
                f"({fmt_qty(units)} units): a one-off or customised product. Backflush relies "
                "on standard BOMs and routings that repeat; a one-off's real usage is better "
                "issued to its order and tracked."))
    many = []
    for parent, versions in sorted(master.boms.versions.items()):
        if len(versions) > limits.max_bom_versions:
            many.append(Finding(
                "bom_versions", parent, Decimal(len(versions)),
                Decimal(limits.max_bom_versions), "BOM versions", None,
                f"{parent} has {len(versions)} BOM versions (effective from "
                f"{versions[0].effective_from} to {versions[-1].effective_from}). Backflush "
                "relieves what the BOM in force says: a BOM that changes this often is a "
                "customised product or an inaccurate BOM, and backflushed usage drifts from "
                "what is really used."))
    return [Check("customised", "customised item (made once)",
                  Decimal(limits.min_completions), "completions", len(made), "items made",
                  tuple(once)),
            Check("bom_versions", "customised item (many BOM versions)",
                  Decimal(limits.max_bom_versions), "BOM versions",
                  len(master.boms.versions), "items with a BOM", tuple(many))]


def _counts(uow: UnitOfWork, window: Window, limits: Thresholds, minor: int) -> Check:
    found = []
    examined = 0
    versions: dict[int, CostVersion] = {}
    for stored in uow.events.all():
        event = stored.event
        if (stored.reversed_by is not None or not isinstance(event, Count)
                or event.date not in window):
            continue
        examined += 1
        diff = sum((m.qty for m in uow.stock.moves_of(stored.seq) if m.kind == "count"), ZERO)
        if diff == 0:
            continue
        book = event.qty - diff
        base = abs(book) if book != 0 else abs(event.qty)
        share = ratio(abs(diff), base)
        if share is None or share <= limits.max_count_difference:
            continue
        if stored.cost_version not in versions:
            versions[stored.cost_version] = uow.master.cost_version(stored.cost_version)
        std = versions[stored.cost_version].costs.get(event.item)
        unit = std.unit_cost if std is not None else ZERO
        value = round_money(mul(diff, unit), minor)
        found.append(Finding(
            "count_difference", event.id, share, limits.max_count_difference, "of the book",
            value,
            f"Count {event.id} of {event.item} at {event.location} on {event.date}: "
            f"{fmt_qty(event.qty)} counted against {fmt_qty(book)} on the books, a difference "
            f"of {fmt_qty(diff)} ({pct(share)} of the "
            f"{'book' if book != 0 else 'count'}; {fmt(value, minor)} at standard). "
            "Backflush needs an accurate BOM and complete scrap reporting: a difference this "
            "large means one of them is wrong (the BOM accuracy report says which line)."))
    return Check("count_difference", "large count difference", limits.max_count_difference,
                 "of the book", examined, "counts", tuple(found))


def _scrap(k: Kpis, limits: Thresholds) -> list[Check]:
    """Items (made: scrapped at completion; bought: scrapped as components) and work
    centers (the completions passing through them)."""
    out = []
    for code, label, what, rows in (
            ("scrap_rate", "high scrap rate (item)", "items with scrap",
             [(s.item, s.item, s.good, s.scrapped, s.rate) for s in k.scrap]),
            ("work_center_scrap", "high scrap rate (work center)", "work centers",
             [(w.work_center, f"work center {w.work_center}", w.good, w.scrapped, w.rate)
              for w in k.work_centers])):
        found = []
        for subject, name, good, scrapped, rate in rows:
            if rate is None or rate <= limits.max_scrap_rate:
                continue
            found.append(Finding(
                code, subject, rate, limits.max_scrap_rate, "rate", None,
                f"At {name}, {fmt_qty(scrapped)} of {fmt_qty(good + scrapped)} units were "
                f"scrapped ({pct(rate)}). Backflush relieves components at the BOM's "
                "standard quantities and planned scrap: scrap this high makes backflushed "
                "usage differ from what was used unless every unit scrapped is reported."))
        out.append(Check(code, label, limits.max_scrap_rate, "rate", len(rows), what,
                         tuple(found)))
    return out
