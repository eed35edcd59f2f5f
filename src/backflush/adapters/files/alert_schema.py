"""The policy's ``alerts`` section in a file: a threshold or a switch per alert rule
(:mod:`backflush.domain.alerts`). ``off``, ``none``, ``null`` or ``false`` switches a rule
off; a rule left out keeps its default."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from backflush.adapters.files.limits import decimal_field, fail
from backflush.domain.alerts import MAX_DAYS, MAX_PCT, AlertThresholds
from backflush.domain.numbers import Limit

OFF = ("off", "none")
ON = ("on",)
PERCENT = Limit("a percentage", 4, 4)
ZERO_PCT = Decimal(0)
_DEFAULT = AlertThresholds()
_DECIMAL = decimal_field(PERCENT).func  # the files' own decimal check (no floats)


def _is_off(value: object) -> bool:
    return value is None or value is False or (isinstance(value, str)
                                               and value.strip().lower() in OFF)


def _percent(value: object) -> Decimal | None:
    if _is_off(value):
        return None
    number: Decimal = _DECIMAL(value)
    if not ZERO_PCT <= number <= MAX_PCT:
        raise fail(f"expected a percentage from 0 to {MAX_PCT}, or off; got {number:f}")
    return number


def _days(value: object) -> int | None:
    if _is_off(value):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise fail(f"expected whole days from 0 to {MAX_DAYS}, or off")
    return value


def _switch(value: object) -> bool:
    if value is True or (isinstance(value, str) and value.strip().lower() in ON):
        return True
    if _is_off(value):
        return False
    raise fail("expected on or off")


Percent = Annotated[Any, BeforeValidator(_percent)]
Days = Annotated[Any, BeforeValidator(_days)]
Switch = Annotated[Any, BeforeValidator(_switch)]


class AlertsRow(BaseModel):
    """``policy.alerts``: every key optional (its default), ``null`` meaning off."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    negative_stock: Switch = _DEFAULT.negative_stock
    count_difference_pct: Percent = _DEFAULT.count_difference_pct
    purchase_price_variance_pct: Percent = _DEFAULT.purchase_price_variance_pct
    pending_age_days: Days = _DEFAULT.pending_age_days
    under_over_applied_pct: Percent = _DEFAULT.under_over_applied_pct
    price_variance_not_recorded: Switch = _DEFAULT.price_variance_not_recorded
    hours_off_routing: Switch = _DEFAULT.hours_off_routing

    @classmethod
    def accepted(cls) -> list[str]:
        """The keys the section accepts (named when an unknown one is refused)."""
        return list(cls.model_fields)

    def to_domain(self) -> AlertThresholds:
        return AlertThresholds(**self.model_dump())
