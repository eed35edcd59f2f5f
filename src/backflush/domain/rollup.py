"""The standard cost roll-up: exact sums, each item's cost rounded once to 10 places.

For every made item, with the BOM versions in effect on the roll-up date:

* **this level** = its own conversion (routing: standard hours per unit × the work centers'
  rates; or its explicit ``conversion_cost``) + Σ over its phantom components of
  gross qty × the phantom's this level;
* **lower levels** = Σ over its stocked components of gross qty × the component's total
  standard cost + Σ over its phantom components of gross qty × the phantom's lower levels;

by cost element (material, labor, overhead, undivided conversion), where gross qty = qty per ×
(1 + scrap). A purchased item's standard cost is its material, at this level. Standard hours
per work center add up the same way as this level's conversion.

**Checkable by hand.** Each sum is exact: it is formed from the components' costs *as stored*
(every stored figure has at most 10 decimal places, a gross quantity at most 12), then rounded
half-up to :data:`~backflush.domain.numbers.UNIT_PLACES` (10) decimal places, once per item
and element. So anyone can recompute an item's cost from its BOM lines and its components'
cost sheet to the last digit, and the result does not depend on the caller's decimal
context.

**How it is summed.** In Python integers: a stored cost is an integer number of 1e-10, a
gross quantity of 1e-12 (:attr:`BomLine.gross_e12`), so a product is exact in units of
1e-22. The four elements of a cost are kept side by side in one integer, 192 bits apart
(:func:`pack`): costs are never negative, so multiplying the packed integer by a gross
quantity multiplies each element, and adding two adds each element, with room to spare
(a stored element is below 2**84, a gross quantity below 2**80). One multiply-add per BOM
line instead of four is what rolls 100,000 items and a million BOM lines up in about a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from operator import attrgetter, mul

from backflush.domain.bom import check_acyclic
from backflush.domain.costs import NO_COST, Cost, CostVersion, StandardCost
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ROUNDING, UNIT_COST, UNIT_PLACES, ZERO

COST_SCALE = 10**UNIT_PLACES  # a stored cost, as an integer number of 1e-10
GROSS_SCALE = 10**12  # a gross quantity, as an integer number of 1e-12
_HALF = GROSS_SCALE // 2
_LIMIT = 10**UNIT_COST.digits * COST_SCALE  # a stored unit cost is below this

WIDTH = 192  # bits between two elements of a packed cost
_MASK = (1 << WIDTH) - 1


def pack(material: int, labor: int, overhead: int, conversion: int) -> int:
    """Four non-negative element amounts side by side in one integer."""
    return (material << 3 * WIDTH) | (labor << 2 * WIDTH) | (overhead << WIDTH) | conversion


def unpack(packed: int) -> tuple[int, int, int, int]:
    return (packed >> 3 * WIDTH, (packed >> 2 * WIDTH) & _MASK, (packed >> WIDTH) & _MASK,
            packed & _MASK)


def _scaled(value: Decimal) -> int:
    """``value`` × 10**10 as an exact integer (refused if it has more places)."""
    scaled = value.scaleb(UNIT_PLACES, ROUNDING)
    n = int(scaled)
    if n != scaled:
        raise ValidationError([Problem("roll-up", None, f"{value} has more than "
                                       f"{UNIT_PLACES} decimal places")])
    return n


def _decimal(n: int) -> Decimal:
    """An integer number of 1e-10 as a Decimal, exactly (written with its ten places: the
    reports and memos show it with :func:`~backflush.domain.numbers.fmt_unit`)."""
    return Decimal(n).scaleb(-UNIT_PLACES, ROUNDING) if n else ZERO


def _cost(elements: tuple[int, int, int, int]) -> Cost:
    if not any(elements):
        return NO_COST
    return Cost(*map(_decimal, elements))


def _check_signs(master: MasterData) -> None:
    """Costs are never negative (validation says so too): the packing relies on it."""
    bad = [Problem(f"item {code}", name, "must not be negative")
           for code, item in sorted(master.items.items())
           for name in ("standard_cost", "conversion_cost")
           if (value := getattr(item, name)) is not None and value < 0]
    if bad:
        raise ValidationError(bad)


_S1, _S2, _S3 = WIDTH, 2 * WIDTH, 3 * WIDTH
_HALVES = pack(_HALF, _HALF, _HALF, _HALF)
_component = attrgetter("component")
_gross = attrgetter("gross_e12")


def _rounded(exact: int) -> tuple[int, int, int, int]:
    """A packed exact sum (units of 1e-22) rounded half-up, element by element, to units of
    1e-10."""
    x = exact + _HALVES
    g = GROSS_SCALE
    return (x >> _S3) // g, ((x >> _S2) & _MASK) // g, ((x >> _S1) & _MASK) // g, \
        (x & _MASK) // g


class _Walk:
    """One roll-up: the costs worked out so far, and how to work out the next item's."""

    def __init__(self, master: MasterData, as_of: date) -> None:
        self.master, self.as_of = master, as_of
        self.rates = {code: (_scaled(wc.labor_rate), _scaled(wc.overhead_rate),
                             _scaled(wc.conversion_rate))
                      for code, wc in master.work_centers.items()}
        self.totals: dict[str, int] = {}  # stocked items: this + lower, packed, 1e-10
        self.phantoms: dict[str, tuple[int, int, dict[str, int]]] = {}  # this, lower, hours
        self.out: dict[str, StandardCost] = {}
        self.problems: list[Problem] = []

    def purchased(self, code: str, std: Decimal) -> None:
        self.totals[code] = _scaled(std) << _S3
        self.out[code] = StandardCost(code, Cost(material=std), NO_COST)

    def made(self, code: str) -> list[str]:
        """Work out the cost of ``code``; or, if some of its components are not worked out
        yet, return them (and do nothing)."""
        master = self.master
        version = master.boms.on(code, self.as_of)
        lines = version.lines if version is not None else ()
        found = list(map(self.totals.get, map(_component, lines)))
        if None in found:
            waiting = [line.component for line, total in zip(lines, found, strict=True)
                       if total is None and line.component not in self.phantoms]
            if waiting:
                return waiting
        item = master.items[code]
        # This level: the routing's hours × rates (units of 1e-20, so × 100) and an explicit
        # conversion cost (units of 1e-10, so × 1e12): the sums are kept in units of 1e-22.
        labor = overhead = conversion = 0
        hours: dict[str, int] = {}
        for op in master.routings.get(code, ()):
            rl, ro, rc = self.rates[op.work_center]
            h = op.hours_e10
            labor += h * rl
            overhead += h * ro
            conversion += h * rc
            hours[op.work_center] = hours.get(op.work_center, 0) + h * GROSS_SCALE
        this = (labor * 100 << _S2) | (overhead * 100 << _S1) | conversion * 100
        if item.conversion_cost is not None:
            this += _scaled(item.conversion_cost) * GROSS_SCALE
        if None not in found:  # no phantom among the components: one pass in C
            lower = sum(map(mul, found, map(_gross, lines)))
        else:
            lower = 0
            for line, total in zip(lines, found, strict=True):
                g = line.gross_e12
                if total is not None:
                    lower += total * g
                    continue
                p_this, p_lower, p_hours = self.phantoms[line.component]
                this += p_this * g  # a phantom's own conversion comes to this level
                lower += p_lower * g
                for wc, h in p_hours.items():
                    hours[wc] = hours.get(wc, 0) + h * g
        this_el, lower_el = _rounded(this), _rounded(lower)
        rounded = {wc: (h + _HALF) // GROSS_SCALE for wc, h in hours.items()}
        if item.phantom:
            self.phantoms[code] = (pack(*this_el), pack(*lower_el), rounded)
        else:
            whole = self.totals[code] = pack(*this_el) + pack(*lower_el)
            if (whole >> _S3) + sum(lower_el[1:]) + sum(this_el) >= _LIMIT:
                self.problems.append(Problem(f"item {code}", "standard_cost", "the rolled-up "
                                             "unit cost has more than 15 digits before the "
                                             "point"))
        centers = self.master.work_centers
        self.out[code] = StandardCost(
            code, _cost(this_el), _cost(lower_el),
            tuple(sorted((wc, _decimal(h)) for wc, h in rounded.items() if h)),
            version.key if version is not None else "",
            tuple((wc, centers[wc].labor_rate, centers[wc].overhead_rate,
                   centers[wc].conversion_rate)
                  for wc in sorted(rounded) if rounded[wc] and wc in centers))
        return []


def roll_up(master: MasterData, as_of: date, number: int = 1) -> CostVersion:
    """Standard costs of every item with the BOMs in effect ``as_of``, as cost version
    ``number``. A cycle among the BOMs in effect is refused with its path (validation checks
    every version: :func:`~backflush.domain.masterdata.check_master_data`)."""
    _check_signs(master)
    walk = _Walk(master, as_of)
    items = master.items
    for code, item in items.items():
        if not item.made:
            walk.purchased(code, item.standard_cost if item.standard_cost is not None else ZERO)
    done = walk.out
    for root in items:
        if root in done:
            continue
        # Components first: an explicit stack, each item put back until its components are
        # done (an item met again while it waits on the stack closes a cycle).
        stack, on_stack = [root], {root}
        while stack:
            code = stack[-1]
            if code in done:
                stack.pop()
                continue
            waiting = walk.made(code)
            if not waiting:
                stack.pop()
                on_stack.discard(code)
                continue
            unknown = [c for c in waiting if c not in items]
            if unknown:
                raise ValidationError([Problem(f"bom {code}", "item",
                                               f"unknown item '{unknown[0]}'")])
            for child in waiting:
                if child in on_stack:
                    check_acyclic(master.boms)  # raises, naming the cycle's path
                on_stack.add(child)
            stack.extend(waiting)
    if walk.problems:
        raise ValidationError(walk.problems)
    return CostVersion(number, as_of, walk.out)


def cost_sheet(costs: Mapping[str, StandardCost], code: str) -> dict[str, Decimal]:
    """An item's standard cost by element and level, as a flat mapping (for reports)."""
    std = costs[code]
    sheet = {f"this_{k}": v for k, v in std.this_level.as_dict().items()}
    sheet.update({f"lower_{k}": v for k, v in std.lower_level.as_dict().items()})
    sheet["total"] = std.unit_cost
    return sheet
