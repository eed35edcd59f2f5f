"""The roll-up against its definition, written the plain way: each item's cost by element and
level from its components' stored costs, exact, rounded half-up to 10 places once per item and
element (domain/rollup.py). Random plants with deep phantoms, odd quantities, scrap factors,
routings with setup spread over lots, BOM versions; and the result is the same whatever the
caller's decimal context."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costs import Cost, StandardCost
from backflush.domain.errors import BomCycleError, ValidationError
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.rollup import pack, roll_up, unpack
from backflush.domain.routing import Operation, WorkCenter

D = Decimal
AS_OF = date(2026, 11, 1)
TEN = D("1E-10")


def r10(x: Decimal) -> Decimal:
    with localcontext(prec=200):
        return x.quantize(TEN, rounding=ROUND_HALF_UP)


def definition(master: MasterData, as_of: date) -> dict[str, tuple[Cost, Cost, dict[str, D]]]:
    """(this level, lower levels, hours) of every item, by the module docstring's words."""
    out: dict[str, tuple[Cost, Cost, dict[str, D]]] = {}

    def cost(code: str) -> tuple[Cost, Cost, dict[str, D]]:
        if code in out:
            return out[code]
        item = master.items[code]
        if not item.made:
            out[code] = (Cost(material=item.standard_cost or D(0)), Cost(), {})
            return out[code]
        with localcontext(prec=200):
            lab = ovh = conv = D(0)
            hours: dict[str, D] = {}
            for op in master.routings.get(code, ()):
                wc = master.work_centers[op.work_center]
                per_unit = r10(op.run_hours + op.setup_hours / op.lot_size)
                lab += per_unit * wc.labor_rate
                ovh += per_unit * wc.overhead_rate
                conv += per_unit * wc.conversion_rate
                hours[op.work_center] = hours.get(op.work_center, D(0)) + per_unit
            conv += item.conversion_cost or D(0)
            lower = [D(0)] * 4
            version = master.boms.on(code, as_of)
            for line in version.lines if version else ():
                gross = line.qty * (1 + line.scrap)
                this_c, lower_c, hours_c = cost(line.component)
                if master.items[line.component].phantom:
                    lab += gross * this_c.labor
                    ovh += gross * this_c.overhead
                    conv += gross * this_c.conversion
                    for wc, h in hours_c.items():
                        hours[wc] = hours.get(wc, D(0)) + gross * h
                    add = lower_c
                else:
                    add = this_c + lower_c
                for k, v in enumerate((add.material, add.labor, add.overhead, add.conversion)):
                    lower[k] += gross * v
        out[code] = (Cost(D(0), r10(lab), r10(ovh), r10(conv)), Cost(*map(r10, lower)),
                     {wc: r10(h) for wc, h in hours.items() if r10(h)})
        return out[code]

    for code in master.items:
        cost(code)
    return out


QTYS = st.sampled_from([D(1), D(2), D("0.5"), D("1.333333"), D("0.000001"), D(7), D("12.5")])
SCRAPS = st.sampled_from([D(0), D(0), D("0.02"), D("0.0125"), D("0.333333")])
PRICES = st.one_of(st.integers(0, 10**8).map(lambda c: D(c) / 100),
                   st.integers(0, 10**12).map(lambda c: D(c) / 10**6))


@st.composite
def plants(draw: st.DrawFn) -> MasterData:
    n_bought = draw(st.integers(1, 6))
    items = {f"P{i}": Item(f"P{i}", standard_cost=draw(PRICES)) for i in range(n_bought)}
    wcs = {"L": WorkCenter("L", labor_rate=draw(PRICES), overhead_rate=draw(PRICES)),
           "C": WorkCenter("C", conversion_rate=D("33.3333333333"))}
    versions, routings = [], {}
    made: list[str] = []
    for j in range(draw(st.integers(1, 8))):
        code = f"M{j}"
        pool = [*items]
        phantom = j < 7 and draw(st.integers(0, 2)) == 0
        comps = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        for v in range(draw(st.integers(1, 2))):
            lines = tuple(BomLine(c, draw(QTYS), draw(SCRAPS)) for c in comps)
            versions.append(BomVersion(code, v + 1, AS_OF + timedelta(days=40 * v - 20), lines))
        if draw(st.booleans()):
            routings[code] = tuple(
                Operation(10 * (k + 1), draw(st.sampled_from(["L", "C"])), draw(QTYS),
                          draw(st.sampled_from([D(0), D(1), D("2.5")])),
                          draw(st.sampled_from([D(1), D(3), D(7), D("0.5")])))
                for k in range(draw(st.integers(1, 2))))
            conversion = None
        else:
            conversion = draw(PRICES)
        items[code] = Item(code, made=True, phantom=phantom, conversion_cost=conversion)
        made.append(code)
    return MasterData(items, Boms.of(versions), wcs, routings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.sampled_from([AS_OF, AS_OF + timedelta(days=30)]))
def test_the_roll_up_is_its_definition(master: MasterData, as_of: date) -> None:
    got = roll_up(master, as_of)
    for code, (this, lower, hours) in definition(master, as_of).items():
        std: StandardCost = got[code]
        assert (std.this_level, std.lower_level) == (this, lower), code
        assert dict(std.hours) == hours, code


@settings(max_examples=60, deadline=None)
@given(plants())
def test_the_roll_up_does_not_depend_on_the_callers_decimal_context(master: MasterData) -> None:
    expected = roll_up(master, AS_OF)
    for prec, rounding in ((3, ROUND_DOWN), (28, ROUND_HALF_UP), (80, ROUND_DOWN)):
        with localcontext(prec=prec, rounding=rounding):
            assert roll_up(master, AS_OF) == expected


def test_an_item_cost_is_rounded_half_up_to_ten_places_once() -> None:
    items = {"A": Item("A", standard_cost=D("0.000003")),
             "M": Item("M", made=True, conversion_cost=D(0))}
    boms = Boms.of([BomVersion("M", 1, AS_OF, (BomLine("A", D("0.000005")),))])
    std = roll_up(MasterData(items, boms), AS_OF)["M"]
    assert std.lower_level.material == D("0.0000000000")  # 1.5e-11 rounds down to 0
    boms = Boms.of([BomVersion("M", 1, AS_OF, (BomLine("A", D("0.000017")),))])
    std = roll_up(MasterData(items, boms), AS_OF)["M"]
    assert std.lower_level.material == D("1E-10")  # 5.1e-11 rounds half-up to 1e-10


def test_a_cycle_among_the_boms_in_effect_is_refused_with_its_path() -> None:
    items = {c: Item(c, made=True, conversion_cost=D(1)) for c in "ABC"}
    boms = Boms.of([BomVersion("A", 1, AS_OF, (BomLine("B", D(1)),)),
                    BomVersion("B", 1, AS_OF, (BomLine("C", D(1)),)),
                    BomVersion("C", 1, AS_OF, (BomLine("A", D(1)),))])
    with pytest.raises(BomCycleError) as err:
        roll_up(MasterData(items, boms), AS_OF)
    assert err.value.path == ("A", "B", "C", "A")


def test_a_cycle_in_a_superseded_version_is_refused_by_validation() -> None:
    items = {"A": Item("A", made=True, conversion_cost=D(1)),
             "B": Item("B", made=True, conversion_cost=D(1))}
    boms = Boms.of([BomVersion("A", 1, date(2020, 1, 1), (BomLine("B", D(1)),)),
                    BomVersion("A", 2, date(2021, 1, 1), (BomLine("B", D(2)),)),
                    BomVersion("B", 1, date(2020, 1, 1), (BomLine("A", D(1)),)),
                    BomVersion("B", 2, date(2021, 1, 1), (BomLine("A", D(1)),))])
    with pytest.raises(BomCycleError):
        check_master_data(MasterData(items, boms))


def test_negative_costs_are_refused() -> None:
    items = {"A": Item("A", standard_cost=D(-1)), "M": Item("M", made=True,
                                                             conversion_cost=D(1))}
    boms = Boms.of([BomVersion("M", 1, AS_OF, (BomLine("A", D(1)),))])
    with pytest.raises(ValidationError, match="must not be negative"):
        roll_up(MasterData(items, boms), AS_OF)


def test_a_cost_beyond_fifteen_digits_is_refused_not_wrapped() -> None:
    items = {"A": Item("A", standard_cost=D("999999999999.999999")),
             "M": Item("M", made=True, conversion_cost=D(0)),
             "N": Item("N", made=True, conversion_cost=D(0))}
    boms = Boms.of([BomVersion("M", 1, AS_OF, (BomLine("A", D("999999999999")),)),
                    BomVersion("N", 1, AS_OF, (BomLine("M", D("999999999999")),))])
    with pytest.raises(ValidationError, match="more than 15 digits"):
        roll_up(MasterData(items, boms), AS_OF)


@given(st.lists(st.integers(0, 2**150), min_size=4, max_size=4))
def test_packed_elements_come_back_as_they_went_in(elements: list[int]) -> None:
    assert unpack(pack(*elements)) == tuple(elements)
