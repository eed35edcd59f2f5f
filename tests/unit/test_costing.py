"""Standard cost roll-up by element and level; BOM graph checks; numbers (unit tier)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backflush.domain.bom import BomLine, Boms, BomVersion, explode
from backflush.domain.errors import BomCycleError, NumberError, ValidationError
from backflush.domain.events import Receipt
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.numbers import fmt_qty, largest_remainder, to_decimal
from backflush.domain.rollup import roll_up
from backflush.domain.routing import Operation, WorkCenter, predetermined_rate

DAY = date(2026, 11, 1)
START = date(1900, 1, 1)


def chair_master() -> MasterData:
    items = {i.code: i for i in [
        Item("CASTER", standard_cost=D("0.50")),
        Item("BASE", standard_cost=D("8.00")),
        Item("FOAM", uom="m", standard_cost=D("4.00")),
        Item("KIT", phantom=True, made=True),
        Item("SEATASM", made=True),
        Item("CHAIR", made=True, conversion_cost=D("2.00")),
    ]}
    boms = Boms.of([
        BomVersion("KIT", 1, START, (BomLine("BASE", D(1)), BomLine("CASTER", D(5), D("0.02")))),
        BomVersion("SEATASM", 1, START, (BomLine("FOAM", D("1.5"), D("0.1")),)),
        BomVersion("CHAIR", 1, START, (BomLine("KIT", D(1)), BomLine("SEATASM", D(1)))),
    ])
    wcs = {"SEW": WorkCenter("SEW", labor_rate=D(20), overhead_rate=D(30)),
           "ASSY": WorkCenter("ASSY", conversion_rate=D(40))}
    routings = {"SEATASM": (Operation(10, "SEW", D("0.1"), D(1), D(10)),),
                "KIT": (Operation(10, "ASSY", D("0.05")),)}
    return MasterData(items, boms, wcs, routings)


def test_roll_up_by_element_and_level_through_phantom_and_scrap() -> None:
    costs = roll_up(chair_master(), DAY)
    seat = costs["SEATASM"]
    # FOAM 1.5 x 1.1 x 4.00 = 6.60 lower level; SEW 0.1 h + 1 h / 10 = 0.2 h x (20 + 30)
    assert seat.lower_level.material == D("6.60")
    assert (seat.this_level.labor, seat.this_level.overhead) == (D("4.0"), D("6.0"))
    assert seat.unit_cost == D("16.60")
    chair = costs["CHAIR"]
    # KIT phantom: BASE 8.00 + 5 x 1.02 x 0.50 = 10.55, brought in as the chair's lower level
    # SEATASM 16.60 lower level (material 6.60, labor 4, overhead 6)
    assert chair.lower_level.material == D("10.55") + D("6.60")
    assert chair.lower_level.labor == D("4.0") and chair.lower_level.overhead == D("6.0")
    # this level: explicit 2.00 + phantom KIT's routing ASSY 0.05 h x 40 = 2.00
    assert chair.this_level.conversion == D("4.00")
    assert chair.unit_cost == D("10.55") + D("16.60") + D("4.00")
    assert chair.hours == (("ASSY", D("0.05")),)


def test_explosion_relieves_phantom_components_directly() -> None:
    m = chair_master()
    ex = explode("CHAIR", D(10), DAY, m.boms, m.items)
    assert ex.totals() == {"BASE": D(10), "CASTER": D("51.0"), "SEATASM": D(10)}
    assert ex.versions == (("KIT", "KIT@v1"),)


def test_bom_version_in_effect_on_a_date() -> None:
    v1 = BomVersion("P", 1, START, (BomLine("A", D(1)),))
    v2 = BomVersion("P", 2, date(2026, 11, 15), (BomLine("A", D(2)),))
    boms = Boms.of([v2, v1])
    assert boms.on("P", date(2026, 11, 14)) == v1
    assert boms.on("P", date(2026, 11, 15)) == v2


def test_bom_cycle_names_its_path() -> None:
    items = {c: Item(c, made=True, conversion_cost=D(1)) for c in "ABC"}
    boms = Boms.of([BomVersion("A", 1, START, (BomLine("B", D(1)),)),
                    BomVersion("B", 1, START, (BomLine("C", D(1)),)),
                    BomVersion("C", 1, START, (BomLine("A", D(1)),))])
    with pytest.raises(BomCycleError) as err:
        check_master_data(MasterData(items, boms))
    assert err.value.path == ("A", "B", "C", "A")
    assert "A -> B -> C -> A" in str(err.value)


def test_master_data_problems_are_all_reported() -> None:
    items = {"X": Item("X"), "M": Item("M", made=True)}
    boms = Boms.of([BomVersion("M", 1, START, (BomLine("NOPE", D(1)),))])
    routings = {"M": (Operation(10, "NOWC", D(1)),)}
    with pytest.raises(ValidationError) as err:
        check_master_data(MasterData(items, boms, {}, routings))
    text = str(err.value)
    assert "item X, field 'standard_cost': purchased item has no standard cost" in text
    assert "unknown item 'NOPE'" in text
    assert "unknown work center 'NOWC'" in text


def test_predetermined_rate_is_budget_over_activity() -> None:
    assert predetermined_rate(D(270000), D(3000)) == D(90)
    with pytest.raises(NumberError):
        predetermined_rate(D(1), D(0))


def test_floats_are_refused_in_the_library_api() -> None:
    with pytest.raises(NumberError, match="binary floats are not accepted"):
        to_decimal(0.1, "qty")
    with pytest.raises(NumberError, match="unit_price"):
        Receipt(id="R", date=DAY, item="A", qty=D(1), unit_price=5.1)  # type: ignore[arg-type]
    with pytest.raises(NumberError):
        Item("A", standard_cost=1.5)  # type: ignore[arg-type]
    with pytest.raises(NumberError):
        BomLine("A", 0.5)  # type: ignore[arg-type]
    for typo in ("1_000.50", "1,5", "٥", "0x10"):  # a typo never becomes a number
        with pytest.raises(NumberError, match="is not a decimal number"):
            to_decimal(typo)
    for special in ("NaN", "Infinity", "-inf"):
        with pytest.raises(NumberError, match="is not a finite number"):
            to_decimal(special)


def test_largest_remainder_adds_up_exactly() -> None:
    parts = largest_remainder(D("100.00"), [D(1), D(1), D(1)], 2)
    assert parts == [D("33.34"), D("33.33"), D("33.33")]
    parts = largest_remainder(D("-0.05"), [D(2), D(1), D(7)], 2)
    assert sum(parts) == D("-0.05")


@given(st.integers(-10**40, 10**40), st.integers(-40, 12))
def test_a_quantity_is_written_with_every_digit_and_no_trailing_zero(coef: int, exp: int) -> None:
    qty = D(coef).scaleb(exp)
    text = fmt_qty(qty)
    assert D(text) == qty  # every digit: nothing rounded, whatever the precision
    assert "E" not in text and "e" not in text
    assert not ("." in text and text.endswith(("0", ".")))
    _, digits, exponent = qty.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) + max(exponent, 0) <= 28:  # as the context-bound way wrote it (it failed,
        # or rounded, beyond 28 digits)
        old = f"{qty.quantize(D(1)):f}" if qty == qty.to_integral_value() \
            else f"{qty.normalize():f}"
        assert text == old


@pytest.mark.parametrize(("qty", "text"), [
    ("-0", "0"), ("-0.00", "0"), ("0E+3", "0"), ("1E+2", "100"), ("2.50", "2.5"),
    ("-1.10", "-1.1"), ("0.0001000", "0.0001"), ("3", "3"),
    ("1.00000000000000000000000000001", "1.00000000000000000000000000001")])
def test_quantity_texts(qty: str, text: str) -> None:
    assert fmt_qty(D(qty)) == text
