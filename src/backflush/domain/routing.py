"""Work centers, routings and predetermined rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from backflush.domain import text
from backflush.domain.errors import NumberError
from backflush.domain.numbers import (
    AMOUNT,
    EXACT,
    HOURS,
    QUANTITY,
    UNIT_COST,
    UNIT_PLACES,
    ZERO,
    add,
    divide_to_unit,
    mul,
    to_decimal,
)


def predetermined_rate(budgeted_cost: Decimal, budgeted_activity: Decimal) -> Decimal:
    """Budgeted conversion cost ÷ budgeted activity (hours or units), rounded half-up to the
    unit precision (10 decimal places)."""
    cost = to_decimal(budgeted_cost, "budgeted cost", AMOUNT)
    activity = to_decimal(budgeted_activity, "budgeted activity", QUANTITY)
    if activity <= 0:
        raise NumberError("budgeted activity must be positive")
    if cost < 0:
        raise NumberError("budgeted cost must not be negative")
    return divide_to_unit(cost, activity)


@dataclass(frozen=True, slots=True)
class WorkCenter:
    """Predetermined rates per hour: labor and overhead, or one undivided conversion rate.
    ``budget`` (a period's budgeted cost by element: labor, overhead, conversion) and
    ``budget_hours``, when the rates were predetermined from a budget: the volume variance
    is measured against them."""

    code: str
    labor_rate: Decimal = ZERO
    overhead_rate: Decimal = ZERO
    conversion_rate: Decimal = ZERO
    budget: tuple[Decimal, Decimal, Decimal] | None = None
    budget_hours: Decimal = ZERO

    def __post_init__(self) -> None:
        text.code(self.code, "work center code")
        if self.budget is not None:
            object.__setattr__(self, "budget", tuple(
                to_decimal(v, f"work center {self.code}: budget", AMOUNT) for v in self.budget))
            object.__setattr__(self, "budget_hours", to_decimal(
                self.budget_hours, f"work center {self.code}: budget hours", QUANTITY))
        for name in ("labor_rate", "overhead_rate", "conversion_rate"):
            value = to_decimal(getattr(self, name), f"work center {self.code}: {name}",
                               UNIT_COST)
            if value < 0:
                raise NumberError(f"work center {self.code}: {name} must not be negative",
                                  name)
            object.__setattr__(self, name, value)

    @property
    def total_rate(self) -> Decimal:
        return add(add(self.labor_rate, self.overhead_rate), self.conversion_rate)


@dataclass(frozen=True, slots=True)
class Operation:
    """One routing step: run hours per unit, setup hours per standard lot.

    ``hours_per_unit`` = run hours + setup hours ÷ lot size, rounded half-up to 10 decimal
    places (the standard hours a unit carries); ``hours_e10`` is the same × 10**10 as an
    integer, what the roll-up sums with. Both are worked out once, when the step is made.
    """

    operation: int
    work_center: str
    run_hours: Decimal = ZERO
    setup_hours: Decimal = ZERO
    lot_size: Decimal = Decimal(1)
    hours_per_unit: Decimal = field(init=False, repr=False, compare=False)
    hours_e10: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.operation, bool) or not isinstance(self.operation, int) \
                or not 0 <= self.operation < 10**6:
            raise NumberError(f"operation {self.operation!r}: expected a whole number")
        text.code(self.work_center, f"operation {self.operation}: work_center")
        for name, limit in (("run_hours", HOURS), ("setup_hours", HOURS),
                            ("lot_size", QUANTITY)):
            value = to_decimal(getattr(self, name), f"operation {self.operation}: {name}",
                               limit)
            object.__setattr__(self, name, value)
        for name in ("run_hours", "setup_hours"):
            if getattr(self, name) < 0:
                raise NumberError(f"operation {self.operation}: {name} must not be negative",
                                  name)
        if self.lot_size <= 0:
            raise NumberError(f"operation {self.operation}: lot_size must be positive",
                              "lot_size")
        hours = self.run_hours if self.setup_hours == 0 else divide_to_unit(
            add(mul(self.run_hours, self.lot_size), self.setup_hours), self.lot_size)
        object.__setattr__(self, "hours_per_unit", hours)
        object.__setattr__(self, "hours_e10", int(hours.scaleb(UNIT_PLACES, EXACT)))
