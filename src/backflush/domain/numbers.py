"""Every Decimal in the engine is built and rounded here.

Money and quantities are :class:`decimal.Decimal` end to end, and the ledger keeps every
value exactly. Two rules make that true whatever the caller's decimal context:

* **Exact or refused.** Every value that comes in must fit its field's :class:`Limit`
  (digits before and after the point, see :data:`LIMITS`). Within the limits every product
  and running total the engine forms has at most 70 significant digits, so arithmetic runs in
  :data:`EXACT`, a 100-digit context that *traps* ``Inexact``: a computation that could not be
  kept exactly raises instead of rounding silently.
* **Rounded once, on purpose.** Money is rounded to the currency's minor unit, half-up, by
  :func:`round_money`; unit costs that come out of the roll-up or a division are rounded to
  :data:`UNIT_PLACES` decimal places by :func:`round_unit`; allocations use
  :func:`largest_remainder` so the parts add up to the whole exactly. Nothing else rounds.

Binary floats are refused: ``0.1`` has no exact binary representation, and a ledger that is
right "to the cent" cannot start from a number that is already wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)

from backflush.domain.errors import NumberError

ZERO = Decimal(0)
ONE = Decimal(1)

# Exact arithmetic: 100 significant digits, and a computation that would need more raises.
EXACT = Context(prec=100, rounding=ROUND_HALF_UP,
                traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Rounded])
# Deliberate rounding (quantize, divide): the same precision, rounding allowed.
ROUNDING = Context(prec=100, rounding=ROUND_HALF_UP,
                   traps=[InvalidOperation, DivisionByZero, Overflow])

UNIT_PLACES = 10  # decimal places of a rolled-up unit cost, a derived rate or hours per unit
UNIT_QUANTUM = Decimal(1).scaleb(-UNIT_PLACES)

# ISO 4217 minor units for the currencies a plant is likely to keep books in.
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CNY": 2,
    "INR": 2, "MXN": 2, "BRL": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
    "HUF": 2, "ZAR": 2, "SGD": 2, "HKD": 2, "TWD": 2, "THB": 2, "MYR": 2, "TRY": 2,
    "RON": 2, "ILS": 2, "PHP": 2, "IDR": 2, "VND": 0, "JPY": 0, "KRW": 0, "CLP": 0,
    "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}
MAX_MINOR_UNIT = 4
_UNTRAPPED = Context(prec=100)  # (dropping zeros is exact, but signals Rounded)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``digits`` digits before the decimal point and ``places`` after it."""

    name: str
    digits: int
    places: int

    def problem(self, value: Decimal) -> str | None:
        """Why ``value`` does not fit, or None."""
        _, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):
            return "is not a finite number"
        extra = -exponent - self.places
        if extra > 0 and any(digits[-extra:]):
            allowed = f"at most {self.places}" if self.places else "no"
            return f"{_cut(str(value))} has more than {self.places} decimal places " \
                   f"({allowed} allowed for {self.name})"
        if value != 0 and value.adjusted() >= self.digits:
            return f"{_cut(str(value))} has more than {self.digits} digits before the " \
                   f"decimal point (the limit for {self.name})"
        return None

    def check(self, value: Decimal, what: str) -> Decimal:
        """``value`` if it fits; zeros beyond the places allowed are dropped (``1.0000000``
        is ``1.000000`` for a quantity), so that products stay within the exact context."""
        problem = self.problem(value)
        if problem is not None:
            raise NumberError(f"{what}: {problem}", what)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.places:
            return value.quantize(Decimal(1).scaleb(-self.places), context=_UNTRAPPED)
        return value


QUANTITY = Limit("a quantity", 12, 6)
PRICE = Limit("a unit price or cost", 12, 6)
HOURS = Limit("hours", 9, 6)
AMOUNT = Limit("an amount", 15, 6)
MONEY = Limit("money", 15, MAX_MINOR_UNIT)
UNIT_COST = Limit("a unit cost", 15, UNIT_PLACES)
FACTOR = Limit("a factor", 1, 6)
# Backflushed quantities are qty × qty per × (1 + scrap), through phantoms: their places add.
STOCK = Limit("stock on hand", 15, 30)

LIMITS: dict[str, Limit] = {
    "qty": QUANTITY, "scrap_qty": QUANTITY, "lot_size": QUANTITY,
    "unit_price": PRICE, "standard_cost": PRICE, "conversion_cost": PRICE,
    "rate": PRICE, "labor_rate": PRICE, "overhead_rate": PRICE, "conversion_rate": PRICE,
    "run_hours": HOURS, "setup_hours": HOURS, "hours": HOURS,
    "amount": AMOUNT, "balance": AMOUNT, "budget": AMOUNT,
    "scrap": FACTOR, "count_tolerance": FACTOR,
}


def to_decimal(value: object, what: str = "value", limit: Limit | None = None) -> Decimal:
    """Build a Decimal from an int, a str or a Decimal; refuse floats, bools, NaN, infinity
    and (with ``limit``) a value that does not fit the field.

    ``what`` names the field in the error message.
    """
    if isinstance(value, bool):
        raise NumberError(f"{what}: expected a decimal number, got a boolean ({value!r})")
    if isinstance(value, float):
        raise NumberError(
            f"{what}: binary floats are not accepted ({value!r}); "
            f"pass a Decimal, an int or a string such as '{value}'"
        )
    if isinstance(value, Decimal):
        result = value
        if result.is_finite() and len(result.as_tuple().digits) > 60:
            raise NumberError(f"{what}: {_short(str(value))} has far too many digits", what)
    elif isinstance(value, int):
        if abs(value) >= 10**40:
            raise NumberError(f"{what}: the number is far too large", what)
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 60:
            raise NumberError(f"{what}: {value[:40]!r}... is too long for a number", what)
        if _DECIMAL_TEXT.fullmatch(text) is None:  # ASCII digits only; no '_', no 'NaN'
            kind = "finite" if text.lstrip("+-").lower() in _NOT_FINITE else "decimal"
            raise NumberError(f"{what}: {_short(value)} is not a {kind} number", what)
        result = Decimal(text)
    else:
        raise NumberError(f"{what}: expected a decimal number, got {type(value).__name__}",
                          what)
    if not result.is_finite():
        raise NumberError(f"{what}: {_short(value)} is not a finite number", what)
    if limit is not None:
        result = limit.check(result, what)
    if result == 0:
        return ZERO  # no -0 or 0E+5: zero is written one way
    return result


_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                           re.ASCII)


_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def mul(a: Decimal, b: Decimal) -> Decimal:
    """Exact product; raises if it cannot be kept exactly (see the module docstring)."""
    return EXACT.multiply(a, b)


def add(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.add(a, b)


def total(values: Sequence[Decimal] | list[Decimal]) -> Decimal:
    out = ZERO
    for v in values:
        out = EXACT.add(out, v)
    return out


def divide_to_unit(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator ÷ denominator rounded half-up to :data:`UNIT_PLACES` places."""
    if denominator == 0:
        raise NumberError("division by zero")
    return ROUNDING.divide(numerator, denominator).quantize(UNIT_QUANTUM, ROUND_HALF_UP,
                                                            ROUNDING)


def round_unit(value: Decimal) -> Decimal:
    """Round a derived unit cost, rate or hours per unit to :data:`UNIT_PLACES` places."""
    return _plain(value.quantize(UNIT_QUANTUM, ROUND_HALF_UP, ROUNDING))


_QUANTA = {n: Decimal(1).scaleb(-n) for n in range(0, MAX_MINOR_UNIT + 1)}


def quantum(minor_unit: int) -> Decimal:
    return _QUANTA[minor_unit]


def round_money(amount: Decimal, minor_unit: int) -> Decimal:
    """Round to the currency's minor unit, half-up."""
    return amount.quantize(_QUANTA[minor_unit], ROUND_HALF_UP, ROUNDING)


def is_money(amount: Decimal, minor_unit: int) -> bool:
    return amount == amount.quantize(_QUANTA[minor_unit], ROUND_HALF_UP, ROUNDING)


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros after the point (1.2500 -> 1.25; 100 stays 100)."""
    if value == 0:
        return ZERO
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent >= 0:
        return value
    stripped = value.normalize(ROUNDING)
    exp = stripped.as_tuple().exponent
    assert isinstance(exp, int)
    return stripped if exp <= 0 else stripped.quantize(ONE, context=ROUNDING)


def plain(value: Decimal) -> Decimal:
    """The value written without trailing zeros after the point, and never with an exponent
    above zero (the canonical form kept in the ledger)."""
    return _plain(value)


def largest_remainder(amount: Decimal, weights: Sequence[Decimal], minor_unit: int
                      ) -> list[Decimal]:
    """Split ``amount`` (already in minor units) over ``weights`` so the parts add up exactly.

    Each part is first rounded toward minus infinity; the minor units left over go, one each,
    to the parts with the largest remainders (ties to the earlier weight). Weights must be
    non-negative with a positive sum.
    """
    if any(w < 0 for w in weights):
        raise NumberError("largest_remainder: weights must not be negative")
    weight_sum = total(list(weights))
    if weight_sum <= 0:
        raise NumberError("largest_remainder: the weights add up to zero")
    q = _QUANTA[minor_unit]
    sign = ONE if amount >= 0 else -ONE
    magnitude = abs(amount)
    raw = [ROUNDING.divide(ROUNDING.multiply(magnitude, w), weight_sum) for w in weights]
    floors = [r.quantize(q, ROUND_FLOOR, ROUNDING) for r in raw]
    left = int(ROUNDING.divide(magnitude - total(floors), q).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += q
    return [sign * part for part in floors]


def fmt(amount: Decimal, minor_unit: int) -> str:
    """Canonical text for money: fixed minor unit, no exponent, no thousands separator."""
    return f"{round_money(amount, minor_unit):f}"


def fmt_unit(value: Decimal) -> str:
    """A unit cost, price or rate as text: no exponent, at least two decimals, no trailing
    zeros beyond them (14.00, 1.2345, 0.0000000001)."""
    text = f"{value:f}"
    whole, dot, frac = text.partition(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac.ljust(2, '0')}" if dot or len(frac) else f"{whole}.00"


def fmt_qty(qty: Decimal) -> str:
    """Canonical text for a quantity: no exponent, no trailing zeros (every digit kept)."""
    text = f"{qty:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
