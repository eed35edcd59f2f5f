"""Every Decimal in the engine is built here.

Money and quantities are :class:`decimal.Decimal` end to end. Binary floats are refused:
``0.1`` has no exact binary representation, and a ledger that is right "to the cent" cannot
start from a number that is already wrong. Integers and strings are accepted.

Rounding happens once, at posting, to the currency's minor unit (half-up, as most ledgers
do); allocations use :func:`largest_remainder` so the parts add up to the whole exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from backflush.domain.errors import NumberError

ZERO = Decimal(0)
ONE = Decimal(1)

# Enough digits for quantities x costs of any plant: 60 significant digits.
EXACT = Context(prec=60, rounding=ROUND_HALF_UP)

# ISO 4217 minor units for the currencies a plant is likely to keep books in.
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CNY": 2,
    "INR": 2, "MXN": 2, "BRL": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
    "HUF": 2, "ZAR": 2, "SGD": 2, "HKD": 2, "TWD": 2, "THB": 2, "MYR": 2, "TRY": 2,
    "RON": 2, "ILS": 2, "PHP": 2, "IDR": 2, "VND": 0, "JPY": 0, "KRW": 0, "CLP": 0,
    "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}


def to_decimal(value: object, what: str = "value") -> Decimal:
    """Build a Decimal from an int, a str or a Decimal; refuse floats, bools, NaN and infinity.

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
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise NumberError(f"{what}: {value!r} is not a decimal number") from None
    else:
        raise NumberError(f"{what}: expected a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise NumberError(f"{what}: {value!r} is not a finite number")
    return result


_multiply = EXACT.multiply


def mul(*factors: Decimal) -> Decimal:
    """Exact product (60 significant digits, far beyond any ledger's needs)."""
    if len(factors) == 2:
        return _multiply(factors[0], factors[1])
    result = ONE
    for factor in factors:
        result = _multiply(result, factor)
    return result


def div(numerator: Decimal, denominator: Decimal) -> Decimal:
    """Quotient to 60 significant digits; the caller rounds at posting."""
    return EXACT.divide(numerator, denominator)


_QUANTA = {n: Decimal(1).scaleb(-n) for n in range(0, 7)}


def quantum(minor_unit: int) -> Decimal:
    found = _QUANTA.get(minor_unit)
    return found if found is not None else Decimal(1).scaleb(-minor_unit)


def round_money(amount: Decimal, minor_unit: int) -> Decimal:
    """Round to the currency's minor unit, half-up."""
    return amount.quantize(quantum(minor_unit), ROUND_HALF_UP, EXACT)


def largest_remainder(total: Decimal, weights: Sequence[Decimal], minor_unit: int) -> list[Decimal]:
    """Split ``total`` (already in minor units) over ``weights`` so the parts add up exactly.

    Each part is first rounded toward minus infinity; the minor units left over go, one each,
    to the parts with the largest remainders (ties to the earlier weight). Weights must be
    non-negative with a positive sum.
    """
    if any(w < 0 for w in weights):
        raise NumberError("largest_remainder: weights must not be negative")
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        raise NumberError("largest_remainder: the weights add up to zero")
    q = quantum(minor_unit)
    sign = ONE if total >= 0 else -ONE
    magnitude = abs(total)
    with localcontext(EXACT):
        raw = [magnitude * w / weight_sum for w in weights]
        floors = [r.quantize(q, rounding=ROUND_FLOOR) for r in raw]
        left = int(((magnitude - sum(floors, ZERO)) / q).to_integral_value())
        order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += q
    return [sign * part for part in floors]


def fmt(amount: Decimal, minor_unit: int) -> str:
    """Canonical text for money: fixed minor unit, no exponent, no thousands separator."""
    return f"{round_money(amount, minor_unit):f}"


def fmt_qty(qty: Decimal) -> str:
    """Canonical text for a quantity: no exponent, no trailing zeros (every digit kept: no
    rounding to a context's precision)."""
    text = f"{qty:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
