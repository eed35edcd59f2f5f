"""Work centers, routings and predetermined rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.domain.errors import NumberError
from backflush.domain.numbers import ZERO, div, mul, to_decimal


def predetermined_rate(budgeted_cost: Decimal, budgeted_activity: Decimal) -> Decimal:
    """Budgeted conversion cost ÷ budgeted activity (hours or units), exact."""
    cost = to_decimal(budgeted_cost, "budgeted cost")
    activity = to_decimal(budgeted_activity, "budgeted activity")
    if activity <= 0:
        raise NumberError("budgeted activity must be positive")
    if cost < 0:
        raise NumberError("budgeted cost must not be negative")
    return div(cost, activity)


@dataclass(frozen=True, slots=True)
class WorkCenter:
    """Predetermined rates per hour: labor and overhead, or one undivided conversion rate."""

    code: str
    labor_rate: Decimal = ZERO
    overhead_rate: Decimal = ZERO
    conversion_rate: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("labor_rate", "overhead_rate", "conversion_rate"):
            value = to_decimal(getattr(self, name), f"work center {self.code}: {name}")
            if value < 0:
                raise NumberError(f"work center {self.code}: {name} must not be negative")
            object.__setattr__(self, name, value)

    @property
    def total_rate(self) -> Decimal:
        return self.labor_rate + self.overhead_rate + self.conversion_rate


@dataclass(frozen=True, slots=True)
class Operation:
    """One routing step: run hours per unit, setup hours per standard lot."""

    operation: int
    work_center: str
    run_hours: Decimal = ZERO
    setup_hours: Decimal = ZERO
    lot_size: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        for name in ("run_hours", "setup_hours", "lot_size"):
            value = to_decimal(getattr(self, name), f"operation {self.operation}: {name}")
            object.__setattr__(self, name, value)
        if self.run_hours < 0 or self.setup_hours < 0:
            raise NumberError(f"operation {self.operation}: hours must not be negative")
        if self.lot_size <= 0:
            raise NumberError(f"operation {self.operation}: lot_size must be positive")

    @property
    def hours_per_unit(self) -> Decimal:
        """Run hours plus setup spread over the standard lot."""
        return self.run_hours + div(self.setup_hours, self.lot_size)

    def hours_for(self, qty: Decimal) -> Decimal:
        return mul(self.hours_per_unit, qty)
