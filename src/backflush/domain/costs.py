"""Standard costs by cost element and by level, and the cost versions that hold them.

A standard cost is kept by element (material, labor, overhead, and undivided conversion when
a work center has one conversion rate or an item an explicit conversion cost) and by level:
*this level* (the item's own conversion, plus the conversion of phantoms exploded through) and
*lower levels* (everything its components bring). Every figure has at most
:data:`~backflush.domain.numbers.UNIT_PLACES` decimal places (see :mod:`.rollup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backflush.domain.numbers import ZERO, add, mul

ELEMENTS = ("material", "labor", "overhead", "conversion")


@dataclass(frozen=True, slots=True)
class Cost:
    """An amount per unit split by cost element."""

    material: Decimal = ZERO
    labor: Decimal = ZERO
    overhead: Decimal = ZERO
    conversion: Decimal = ZERO  # undivided conversion (one rate, or an explicit cost per unit)

    @property
    def total(self) -> Decimal:
        return add(add(self.material, self.labor), add(self.overhead, self.conversion))

    @property
    def conversion_total(self) -> Decimal:
        """Labor + overhead + undivided conversion."""
        return add(add(self.labor, self.overhead), self.conversion)

    def __add__(self, other: Cost) -> Cost:
        return Cost(add(self.material, other.material), add(self.labor, other.labor),
                    add(self.overhead, other.overhead), add(self.conversion, other.conversion))

    def __sub__(self, other: Cost) -> Cost:
        return self + other.scaled(Decimal(-1))

    def scaled(self, factor: Decimal) -> Cost:
        return Cost(mul(self.material, factor), mul(self.labor, factor),
                    mul(self.overhead, factor), mul(self.conversion, factor))

    def without_material(self) -> Cost:
        return Cost(ZERO, self.labor, self.overhead, self.conversion)

    def as_dict(self) -> dict[str, Decimal]:
        return {e: getattr(self, e) for e in ELEMENTS}


NO_COST = Cost()


@dataclass(frozen=True, slots=True)
class StandardCost:
    item: str
    this_level: Cost
    lower_level: Cost
    # Standard hours per unit by work center (own routing and phantoms exploded through).
    hours: tuple[tuple[str, Decimal], ...] = ()
    bom: str = ""  # the BOM version key rolled up
    # The rates per hour (labor, overhead, conversion) of those work centers when rolled up:
    # reported hours are applied at the rates of the standards an event was posted at.
    rates: tuple[tuple[str, Decimal, Decimal, Decimal], ...] = ()

    def rate_at(self, work_center: str) -> tuple[Decimal, Decimal, Decimal] | None:
        for wc, labor, overhead, conversion in self.rates:
            if wc == work_center:
                return labor, overhead, conversion
        return None

    @property
    def total(self) -> Cost:
        return self.this_level + self.lower_level

    @property
    def unit_cost(self) -> Decimal:
        return add(self.this_level.total, self.lower_level.total)

    @property
    def material(self) -> Decimal:
        return add(self.this_level.material, self.lower_level.material)

    @property
    def conversion(self) -> Decimal:
        return add(self.this_level.conversion_total, self.lower_level.conversion_total)

    @property
    def own_conversion(self) -> Cost:
        """This level's conversion, which a completion of the item applies."""
        return self.this_level.without_material()

    def hours_at(self, work_center: str) -> Decimal:
        for wc, h in self.hours:
            if wc == work_center:
                return h
        return ZERO


@dataclass(frozen=True, slots=True)
class CostVersion:
    """The standard costs in force from ``effective_from`` on."""

    number: int
    effective_from: date
    costs: Mapping[str, StandardCost] = field(default_factory=dict)

    def __getitem__(self, code: str) -> StandardCost:
        return self.costs[code]
