"""The level-by-level roll-up gives exactly the recursive roll-up's standard costs.

``roll_up_levels`` must equal ``roll_up_reference`` field for field (Decimal equality): every
element at this level and lower levels, hours by work center, the BOM key, and the rounding
the reference does when a running sum outgrows the decimal context's 28 digits.
"""

from __future__ import annotations

import os
import random
import shutil
import sysconfig
from collections.abc import Callable, Iterator
from dataclasses import astuple, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, localcontext
from itertools import cycle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backflush.adapters import tabular
from backflush.adapters.sql.db import make_engine
from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.adapters.synthetic import PlantSpec, generate
from backflush.domain import rollup
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import CostVersion, MasterData, roll_up, roll_up_reference
from backflush.domain.errors import BomCycleError
from backflush.domain.items import Item
from backflush.domain.rollup import clear_compiled_boms, roll_up_levels
from backflush.domain.routing import Operation, WorkCenter, predetermined_rate
from backflush.entrypoints.cli import app

DAY = date(2026, 11, 1)
START = date(1900, 1, 1)

# Work centers of every kind of rate: labour and overhead, predetermined (many digits), one
# conversion rate, none at all.
WORK_CENTERS = {
    "LAB": WorkCenter("LAB", labor_rate=Decimal("31.25"), overhead_rate=Decimal("47.5")),
    "ODD": WorkCenter("ODD", labor_rate=predetermined_rate(Decimal(1000), Decimal(3)),
                      overhead_rate=predetermined_rate(Decimal(250), Decimal(7))),
    "CNV": WorkCenter("CNV", conversion_rate=Decimal("88.125")),
    "ZERO": WorkCenter("ZERO"),
}


# Tests where the compiled walk may refuse and leave the work to the arrays or to Decimal.
REFUSED_IN = ("test_other_decimal_contexts", "test_negative_costs",
              "test_a_gross_quantity_with_many_digits")


@pytest.fixture(autouse=True, scope="module", params=["compiled", "arrays"])
def walk(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test on both level walks: the compiled one (``_levels.c``, where it was built)
    and the NumPy arrays (without a C compiler, or above 28 digits). On the compiled one, a
    roll-up done by another walk (a refusal, or a way round the compiled walk: the tests
    would pass on the arrays, unseen) fails the module, unless a test of ``REFUSED_IN``
    asks for it."""
    kernel = rollup._kernel
    if request.param == "compiled" and kernel is None:
        pytest.skip("the compiled level walk is not built here")
    if request.param == "arrays":
        rollup._kernel = None
    walked: list[str] = []
    elsewhere: list[str] = []  # refused by the compiled walk, or walked without trying it
    plan = rollup._Plan
    methods = {name: getattr(plan, name)
               for name in ("levels_in_kernel", "levels_in_arrays", "walk_in_decimal")}

    def watched(name: str) -> Callable[..., None]:
        method = methods[name]

        def run(p: rollup._Plan, *args: Any) -> None:
            test = os.environ.get("PYTEST_CURRENT_TEST", "?")
            if name != "levels_in_kernel":
                if rollup._kernel is not None:  # a walk the compiled one should have done
                    elsewhere.append(test)
                return method(p, *args)
            try:
                method(p, *args)
            except rollup._Unsupported:
                elsewhere.append(test)
                raise
            walked.append(test)
        return run

    for name in methods:
        setattr(plan, name, watched(name))
    try:
        yield request.param
    finally:
        for name, method in methods.items():
            setattr(plan, name, method)
        rollup._kernel = kernel
    if request.param == "compiled":
        assert walked or not elsewhere
        assert not [t for t in elsewhere if not any(name in t for name in REFUSED_IN)], \
            elsewhere


def test_the_compiled_walk_is_built_where_a_c_compiler_is() -> None:
    """``make install`` builds ``_levels.c`` where there is a compiler and Python's headers
    (as on CI): the roll-up must not silently fall back to the arrays there."""
    if not (shutil.which("cc") or shutil.which("gcc")) or not (
            Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        pytest.skip("no C compiler or no Python headers here: the arrays do the work")
    assert rollup._load_kernel() is not None


def test_a_build_of_another_version_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stale ``_levels`` library (its functions' arguments may differ) is left alone."""
    if rollup._load_kernel() is None:
        pytest.skip("the compiled level walk is not built here")
    monkeypatch.setattr(rollup._Kernel, "ABI", rollup._Kernel.ABI + 1)
    assert rollup._load_kernel() is None


def assert_same(got: CostVersion, want: CostVersion) -> None:
    assert (got.number, got.effective_from) == (want.number, want.effective_from)
    assert set(got.costs) == set(want.costs)
    for code, std in want.costs.items():
        assert got.costs[code] == std, code


# --- random plants ------------------------------------------------------------------------


def decimals(draw: st.DrawFn, *, low: int, high: int, places: int) -> Decimal:
    return Decimal(draw(st.integers(low, high))).scaleb(-draw(st.integers(0, places)))


@st.composite
def plants(draw: st.DrawFn, max_items: int = 28) -> tuple[MasterData, date]:
    """A BOM DAG: purchased items with many decimals, made items and phantoms over them, each
    made item with one to three BOM versions (effective dates around the roll-up date), scrap
    factors, fractional quantities, routings (some at predetermined rates with 60 digits,
    setup spread over odd lot sizes) or explicit conversion costs, now and then neither."""
    n = draw(st.integers(2, max_items))
    n_bought = draw(st.integers(1, max(1, n - 1)))
    big = draw(st.booleans())  # large costs and quantities: running sums beyond 28 digits
    items: dict[str, Item] = {}
    for i in range(n_bought):
        code = f"P{i:02d}"
        items[code] = Item(code, standard_cost=decimals(
            draw, low=0, high=10**12 if big else 10**6, places=draw(st.sampled_from((2, 4, 12)))))
    wcs = dict(WORK_CENTERS)
    routings: dict[str, tuple[Operation, ...]] = {}
    versions: list[BomVersion] = []
    made = [f"M{i:02d}" for i in range(n - n_bought)]
    for code in made:
        below = list(items)  # purchased and earlier made items: a DAG
        phantom = draw(st.integers(0, 4)) == 0
        conversion = None
        kind = draw(st.integers(0, 3))
        if kind == 0:
            conversion = decimals(draw, low=0, high=10**5, places=3)
        elif kind in (1, 2):
            routings[code] = tuple(
                Operation(10 * (j + 1), draw(st.sampled_from(sorted(wcs))),
                          decimals(draw, low=0, high=500, places=3),
                          decimals(draw, low=0, high=20, places=1),
                          Decimal(draw(st.sampled_from((1, 3, 7, 10, 50)))))
                for j in range(draw(st.integers(1, 3))))
        items[code] = Item(code, made=True, phantom=phantom, conversion_cost=conversion)
        if phantom or draw(st.integers(0, 5)):  # a phantom needs a BOM; most made items too
            for v in range(draw(st.integers(1, 3))):
                comps = draw(st.lists(st.sampled_from(below), min_size=1, max_size=6))
                lines = tuple(
                    BomLine(c, decimals(draw, low=1, high=400 if big else 40, places=2),
                            Decimal(draw(st.sampled_from(("0", "0", "0.01", "0.02", "0.125",
                                                          "0.5")))))
                    for c in comps)
                versions.append(BomVersion(code, v + 1,
                                           DAY + timedelta(days=draw(st.integers(-40, 40))),
                                           lines))
    as_of = DAY + timedelta(days=draw(st.integers(-50, 50)))
    return MasterData(items, Boms.of(versions), wcs, routings), as_of


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants())
def test_levels_equal_the_recursive_roll_up(plant: tuple[MasterData, date]) -> None:
    master, as_of = plant
    assert_same(roll_up_levels(master, as_of, 3), roll_up_reference(master, as_of, 3))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.sampled_from([(6, None), (12, None), (18, None), (36, None), (40, None),
                                  (28, ROUND_HALF_UP)]))
def test_other_decimal_contexts_round_as_the_reference(
        plant: tuple[MasterData, date], context: tuple[int, str | None]) -> None:
    """The reference adds in the ambient context; so does the level walk (a precision above
    36 digits or another rounding mode takes the Decimal walk)."""
    master, as_of = plant
    prec, rounding = context
    with localcontext() as ctx:
        ctx.prec = prec
        if rounding is not None:
            ctx.rounding = rounding
        assert_same(roll_up_levels(master, as_of), roll_up_reference(master, as_of))


def deep_plant(depth: int = 12, width: int = 6, seed: int = 3) -> MasterData:
    """Levels of made items over purchased items with 4 decimals, each line with a scrap
    factor: the running sums have far more than 28 digits near the top."""
    rng = random.Random(seed)
    items = {f"P{i}": Item(f"P{i}", standard_cost=Decimal(rng.randint(1, 10**8)).scaleb(-4))
             for i in range(width)}
    versions = []
    below = list(items)
    for lv in range(depth):
        level = []
        for j in range(width):
            code = f"M{lv}-{j}"
            items[code] = Item(code, made=True, conversion_cost=Decimal("1.5"),
                               phantom=lv % 3 == 1 and j == 0)
            lines = tuple(BomLine(c, Decimal(rng.choice(("1", "2.5", "3", "12"))),
                                  Decimal(rng.choice(("0.01", "0.025", "0.05"))))
                          for c in rng.sample(below, min(len(below), 5)))
            versions.append(BomVersion(code, 1, START, lines))
            level.append(code)
        below = level + below[:width]
    return MasterData(items, Boms.of(versions))


def test_sums_beyond_28_digits_are_rounded_as_the_reference_rounds_them() -> None:
    master = deep_plant()
    want = roll_up_reference(master, DAY)
    with localcontext() as ctx:
        ctx.clear_flags()
        got = roll_up_levels(master, DAY)
        assert ctx.flags[Inexact]  # rounded, and said so, as the reference's additions do
    assert_same(got, want)
    top = want["M11-1"].lower_level.material
    assert len(top.as_tuple().digits) == 28  # the reference did round here
    exact = sum_exact(master, "M11-1")
    assert exact != top and abs(exact - top) < Decimal("1e-10") * top


def sum_exact(master: MasterData, code: str) -> Decimal:
    """The lower-level material of ``code`` without any rounding (for the test above)."""
    with localcontext() as ctx:
        ctx.prec = 500

        def total(c: str) -> Decimal:
            item = master.items[c]
            if not item.made:
                return item.standard_cost or Decimal(0)
            return lower(c)

        def lower(c: str) -> Decimal:
            v = master.boms.on(c, DAY)
            assert v is not None
            return sum((total(line.component) * line.qty * (1 + line.scrap)
                        for line in v.lines), Decimal(0))

        return lower(code)


def test_a_gross_quantity_with_many_digits_takes_the_decimal_walk() -> None:
    master = deep_plant(depth=4)
    boms = Boms.of([replace(v, lines=(*v.lines, BomLine("P0", Decimal("1.23456789012"),
                                                        Decimal("0.0125"))))
                    for vs in master.boms.versions.values() for v in vs])
    master = replace(master, boms=boms)
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))


# --- the fold itself ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 10**37 - 1), st.integers(-60, 30)),
                         min_size=0, max_size=12), min_size=1, max_size=8),
       st.sampled_from((28, 9, 19, 36)))
def test_fold_rounds_each_partial_sum_as_decimal_addition(
        rows: list[list[tuple[int, int]]], prec: int) -> None:
    """``S = round(S + term)`` per row, against Decimal addition, terms up to 37 digits."""
    coefs = [c for terms in rows for c, _ in terms]
    exps = [e for terms in rows for _, e in terms]
    row = [r for r, terms in enumerate(rows) for _ in terms]
    got, _ = rollup._fold(rollup._Nums(limbs_of(coefs), np.array(exps, np.int64)),
                          np.array(row, np.int64), len(rows), prec)
    assert as_decimals(got) == decimal_fold(rows, prec)[0]


def limbs_of(coefs: list[int]) -> np.ndarray:
    """Coefficients up to 45 digits as 5 limbs in base 10**9, a column each."""
    return np.array([[c // 10**(9 * j) % 10**9 for c in coefs] for j in range(5)],
                    np.int64).reshape(5, len(coefs))


def as_decimals(nums: rollup._Nums) -> list[Decimal]:
    """Columns of limbs and exponents as exact Decimals."""
    wide = Context(prec=100)
    return [wide.scaleb(Decimal(sum(int(nums.coef[j, r]) * 10**(9 * j)
                                    for j in range(nums.coef.shape[0]))), int(nums.exp[r]))
            for r in range(nums.exp.size)]


def compiled_fold(rows: list[list[tuple[int, int]]], prec: int) -> tuple[list[Decimal], bool]:
    """Each row's terms (coefficient, exponent) added up by ``backflush_fold_rows``."""
    assert rollup._kernel is not None
    coefs = [c for terms in rows for c, _ in terms]
    exps = np.array([e for terms in rows for _, e in terms], np.int64)
    bounds = np.cumsum([0] + [len(terms) for terms in rows])
    got, inexact = rollup._kernel.fold_rows(bounds, limbs_of(coefs), exps, prec)
    return as_decimals(got), inexact


def decimal_fold(rows: list[list[tuple[int, int]]], prec: int) -> tuple[list[Decimal], bool]:
    """The same with Decimal addition at ``prec`` digits, half even (the reference's)."""
    wide = Context(prec=100)  # the terms exactly
    ctx = Context(prec=prec)
    sums = []
    for terms in rows:
        total = Decimal(0)
        for coef, exp in terms:
            total = ctx.add(total, wide.scaleb(Decimal(coef), exp))
        sums.append(total)
    return sums, bool(ctx.flags[Inexact])


def terms_near(draw: st.DrawFn) -> tuple[int, int]:
    """A term up to 37 digits, often all nines or a five and zeros (carries and ties)."""
    digits = draw(st.integers(1, 37))
    coef = draw(st.one_of(st.integers(1, 10**digits - 1), st.just(10**digits - 1),
                          st.just(5 * 10**(digits - 1)), st.just(10**(digits - 1))))
    exp = draw(st.one_of(st.integers(-60, 30), st.integers(-3, 3), st.integers(-10**5, 10**5)))
    return coef, exp


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.composite(lambda draw: terms_near(draw))(), max_size=12),
                min_size=1, max_size=6),
       st.sampled_from((28, 28, 27, 19, 9, 2, 1)))
def test_the_compiled_fold_rounds_each_partial_sum_as_decimal_addition(
        walk: str, rows: list[list[tuple[int, int]]], prec: int) -> None:
    """``_levels.c``'s addition against Decimal's: terms up to 37 digits, near and far apart
    in magnitude (the sticky digit), carries to a new digit, exact ties; and the signal."""
    if walk != "compiled":
        pytest.skip("the compiled fold")
    assert compiled_fold(rows, prec) == decimal_fold(rows, prec)


@pytest.mark.parametrize("rows", [
    [[(10**28 - 1, 0), (5, -1)]],  # 99..9.5: a tie, to even, one digit more
    [[(10**28 - 1, 0), (5, -60)]],  # far below: sticky, rounds down
    [[(10**28 - 2, 0), (5, -1)], [(10**28 - 3, 0), (5, -1)]],  # ties to even, both ways
    [[(5, -1), (10**28 - 3, 0)]],  # the small one first
    [[(10**27, 5), (5 * 10**20, -10)], [(10**27, 5), (5 * 10**20 + 1, -10)]],
    [[(10**37 - 1, -40), (10**37 - 1, 0)]],  # 37 digits each, far apart
    [[(1, 10**5), (1, -10**5)]],
    # A 37-digit term over a tiny sum: with the sum's digits shifted under the term's last
    # digit instead of below it, the sticky digit would make an exact tie of ...499999999.
    [[(5, -5), (10**36 + 15 * 10**8 - 1, 0)]],
    # The sticky digit in the last digit kept instead of a guard digit below it (found by a
    # review): ...0002 instead of ...0001.
    [[(10**27 + 1, 0), (4999999999 * 10**27 + 10**27 - 1, -37)]],
])
def test_the_compiled_fold_on_the_edges(walk: str, rows: list[list[tuple[int, int]]]) -> None:
    if walk != "compiled":
        pytest.skip("the compiled fold")
    assert compiled_fold(rows, 28) == decimal_fold(rows, 28)


@st.composite
def near_the_sticky_bound(draw: st.DrawFn) -> list[list[tuple[int, int]]]:
    """Two or three terms whose exponents are just about as far apart as the exact path can
    take (38 digits in all): either side of the switch to the sticky digit."""
    dx = draw(st.integers(1, 37))
    x = draw(st.one_of(st.integers(10**(dx - 1), 10**dx - 1), st.just(10**dx - 1),
                       st.just(10**(dx - 1) + 1)))
    shift = 38 - dx + draw(st.integers(-3, 3))
    dy = draw(st.integers(1, 37))
    y = draw(st.one_of(st.integers(10**(dy - 1), 10**dy - 1), st.just(10**dy - 1),
                       st.just(5 * 10**(dy - 1)), st.just(5 * 10**(dy - 1) - 1)))
    ex = draw(st.integers(-40, 40))
    row = [(x, ex), (y, ex - shift)]
    if draw(st.booleans()):
        row.reverse()
    if draw(st.booleans()):
        row.insert(0, (draw(st.integers(1, 10**28 - 1)), ex + draw(st.integers(-30, 10))))
    return [row]


@settings(max_examples=500, deadline=None)
@given(near_the_sticky_bound(), st.sampled_from((28, 28, 27, 20, 9, 1)))
def test_the_compiled_addition_either_side_of_its_sticky_digit(
        walk: str, rows: list[list[tuple[int, int]]], prec: int) -> None:
    if walk != "compiled":
        pytest.skip("the compiled fold")
    assert compiled_fold(rows, prec) == decimal_fold(rows, prec)


def test_the_compiled_walk_refuses_what_it_cannot_hold(walk: str) -> None:
    """A precision above 28 digits (a term could outgrow 128 bits) is refused, not
    miscomputed; ``roll_up_levels`` then takes the arrays (see the context tests)."""
    if walk != "compiled":
        pytest.skip("the compiled fold")
    with pytest.raises(rollup._Unsupported):
        compiled_fold([[(1, 0)]], 29)
    with pytest.raises(rollup._Unsupported):  # an exponent beyond what it can add safely
        compiled_fold([[(1, 2**63 - 1), (1, -1)]], 28)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants())
def test_both_walks_write_the_same_text(walk: str, plant: tuple[MasterData, date]) -> None:
    """The same numbers written alike, whichever walk a machine has (a whole number without
    an exponent, no trailing zeros after the point)."""
    if walk != "compiled":
        pytest.skip("compares the compiled walk with the arrays")
    master, as_of = plant
    compiled = roll_up_levels(master, as_of)
    kernel, rollup._kernel = rollup._kernel, None
    try:
        arrays = roll_up_levels(master, as_of)
    finally:
        rollup._kernel = kernel
    for code, std in compiled.costs.items():
        for mine, theirs in ((std.lower_level, arrays[code].lower_level),
                             (std.this_level, arrays[code].this_level)):
            assert [str(v) for v in astuple(mine)] == [str(v) for v in astuple(theirs)], code


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**36 - 1), st.integers(-45, 12)), min_size=1,
                max_size=12),
       st.sampled_from((28, 9, 19, 36)))
def test_decimals_are_read_into_limbs_digit_for_digit(values: list[tuple[int, int]],
                                                      prec: int) -> None:
    """``_to_nums`` (from the numbers' text, in bulk) gives each number's coefficient without
    trailing zeros and its exponent, positional and scientific notation alike."""
    with localcontext() as ctx:
        ctx.prec = prec
        decimals = [ctx.plus(Decimal(coef).scaleb(exp, Context(prec=100))) for coef, exp in values]
        got = rollup._to_nums(decimals, prec)
    for k, d in enumerate(decimals):
        _, digits, exp = d.normalize(Context(prec=100)).as_tuple()
        assert isinstance(exp, int)
        want = int("".join(map(str, digits)))
        value = sum(int(got.coef[j, k]) * 10**(9 * j) for j in range(got.coef.shape[0]))
        assert (value, int(got.exp[k])) == (want, exp), d


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 5), st.integers(1, 8), st.integers(0, 30))
def test_shift_up_multiplies_by_a_power_of_ten_into_the_limbs_asked(
        data: st.DataObject, width: int, limbs: int, n: int) -> None:
    x = data.draw(st.lists(st.integers(0, 10**(9 * width) - 1), min_size=n, max_size=n))
    same = data.draw(st.booleans())
    first = data.draw(st.integers(0, 9 * limbs + 10))
    s = [first] * n if same else data.draw(
        st.lists(st.integers(0, 9 * limbs + 10), min_size=n, max_size=n))
    cols = np.array([[v // 10**(9 * j) % 10**9 for v in x] for j in range(width)],
                    np.int64).reshape(width, n)
    got = rollup._shift_up(cols, np.array(s, np.int64), limbs)
    assert got.shape == (limbs, n)
    for k in range(n):  # x * 10**s, keeping the ``limbs`` lowest limbs
        want = x[k] * 10**s[k] % 10**(9 * limbs)
        assert sum(int(got[j, k]) * 10**(9 * j) for j in range(limbs)) == want


# --- a generated plant --------------------------------------------------------------------


def read_plant(out: Path) -> MasterData:
    """The generated files through the importers' readers, as ``backflush import`` reads them."""
    boms = Boms.of(tabular.read_boms(out / "boms.csv"))
    routings = tabular.read_routings(out / "routings.csv")
    bare = MasterData({}, boms, {}, routings)
    items = {i.code: i for i in tabular.read_items(out / "items.csv", bare)}
    wcs = {w.code: w for w in tabular.read_work_centers(out / "work-centers.csv")}
    return MasterData(items, boms, wcs, routings)


def test_a_generated_plant_rolls_up_as_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "plant"
    written = generate(PlantSpec(items=3000, depth=8, fan_out=8, events=0, seed=5), out)
    assert written.bom_lines > 10_000
    master = read_plant(out)
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))
    assert_same(roll_up(master, DAY), roll_up_reference(master, DAY))  # delegates: large


def test_a_generated_plant_imported_into_a_ledger_rolls_up_as_the_reference(
        tmp_path: Path) -> None:
    """As tests/test_generate.py does it: the CLI imports the files into a SQLite ledger."""
    out = tmp_path / "plant"
    runner = CliRunner()
    result = runner.invoke(app, ["generate", str(out), "--items", "400", "--depth", "6",
                                 "--fan-out", "8", "--events", "0", "--seed", "9"])
    assert result.exit_code == 0, result.output
    db = f"sqlite:///{tmp_path / 'g.db'}"
    for args in (["init", "--as-of", "2026-11-01"],
                 *(["import", kind, str(out / f"{kind}.csv"), "--as-of", "2026-11-01"]
                   for kind in ("work-centers", "items", "routings", "boms"))):
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == 0, res.output
    engine = make_engine(db)
    try:
        with SqlUnitOfWork(engine, read_only=True) as uow:
            master = uow.ledger.master
            stored = uow.ledger.costs
    finally:
        engine.dispose()
    want = roll_up_reference(master, DAY, stored.number)
    assert_same(roll_up_levels(master, DAY, stored.number), want)
    for code, std in want.costs.items():  # and what the import stored
        assert stored.costs[code].unit_cost == std.unit_cost


# --- cycles, unknown items, the compiled BOMs ----------------------------------------------


def chain(n: int, *, back_from: int | None = None, old: bool = False) -> MasterData:
    """M0 <- M1 <- ... <- M(n-1) over a purchased item; optionally a line from M(back_from)
    to M(n-1), a cycle, in a version in effect or only in an old, superseded one."""
    items = {f"M{i}": Item(f"M{i}", made=True, conversion_cost=Decimal(1)) for i in range(n)}
    items["P"] = Item("P", standard_cost=Decimal("2.50"))
    versions = [BomVersion(f"M{i}", 2, START,
                           (BomLine(f"M{i - 1}" if i else "P", Decimal(2)),
                            BomLine("P", Decimal("0.5"), Decimal("0.02"))))
                for i in range(n)]
    if back_from is not None:
        when = START - timedelta(days=1) if old else DAY - timedelta(days=1)
        versions.append(BomVersion(f"M{back_from}", 1 if old else 3, when,
                                   (BomLine(f"M{n - 1}", Decimal(1)),)))
    return MasterData(items, Boms.of(versions))


@pytest.mark.parametrize("old", [False, True])
def test_a_cycle_is_reported_with_its_path_even_in_a_superseded_version(old: bool) -> None:
    for n in (5, 1600):  # below and above the size roll_up hands to the level walk
        master = chain(n, back_from=n - 3, old=old)
        with pytest.raises(BomCycleError) as want:
            roll_up_reference(master, DAY)
        with pytest.raises(BomCycleError) as got:
            roll_up_levels(master, DAY)
        with pytest.raises(BomCycleError) as delegated:
            roll_up(master, DAY)
        path = got.value.path
        assert path == want.value.path == delegated.value.path
        assert path[0] == path[-1] and len(path) == 4
        assert set(path) == {f"M{n - 3}", f"M{n - 2}", f"M{n - 1}"}
        assert " -> ".join(path) in str(got.value)


def test_a_long_chain_rolls_up() -> None:
    master = chain(3000)  # 3,000 levels: item by item
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))


def test_an_unknown_component_fails_as_in_the_reference() -> None:
    master = chain(4)
    boms = Boms.of([*(v for vs in master.boms.versions.values() for v in vs),
                    BomVersion("M3", 9, DAY, (BomLine("NOPE", Decimal(1)),))])
    master = replace(master, boms=boms)
    with pytest.raises(KeyError, match="NOPE"):
        roll_up_reference(master, DAY)
    with pytest.raises(KeyError, match="NOPE"):
        roll_up_levels(master, DAY)


def test_the_compiled_boms_are_reused_only_while_unchanged() -> None:
    clear_compiled_boms()
    master = deep_plant(depth=5)
    first = roll_up_levels(master, DAY)
    compiled = rollup._compiled[0]
    # A standard cost change keeps the BOMs: compiled once, the new costs rolled up.
    cheaper = master.with_item(Item("P0", standard_cost=Decimal("0.0001")))
    assert_same(roll_up_levels(cheaper, DAY), roll_up_reference(cheaper, DAY))
    assert rollup._compiled[0] is compiled
    assert_same(roll_up_levels(master, DAY), first)
    # A version swapped in place (a Boms is not meant to change, but if it does...).
    versions = master.boms.versions
    assert isinstance(versions, dict)
    parent = "M4-2"
    old = versions[parent]
    versions[parent] = (replace(old[0], lines=(BomLine("P1", Decimal(7)),)),)
    try:
        assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))
        assert rollup._compiled[0] is not compiled
    finally:
        versions[parent] = old
    clear_compiled_boms()
    assert not rollup._compiled


def test_roll_up_delegates_to_the_levels_for_large_boms_only() -> None:
    small = deep_plant(depth=2, width=3)
    large = chain(1600)
    clear_compiled_boms()
    roll_up(small, DAY)
    assert not rollup._compiled
    roll_up(large, DAY)
    assert rollup._compiled and rollup._compiled[0].boms is large.boms
    clear_compiled_boms()


def test_costs_far_apart_in_magnitude_still_roll_up_exactly() -> None:
    """A sum whose terms are 10**-300 and 10**300 apart: too wide for the arrays."""
    items = {"TINY": Item("TINY", standard_cost=Decimal("1E-300")),
             "HUGE": Item("HUGE", standard_cost=Decimal("1E+300")),
             "MID": Item("MID", standard_cost=Decimal("3.25"))}
    versions = []
    for k in range(400):
        code = f"M{k}"
        items[code] = Item(code, made=True, conversion_cost=Decimal("0.5"))
        versions.append(BomVersion(code, 1, START, (
            BomLine("TINY", Decimal(3)), BomLine("MID", Decimal("1.5"), Decimal("0.02")),
            BomLine("HUGE", Decimal(2)), *(BomLine(f"M{j}", Decimal(1)) for j in range(k)
                                           if j % 97 == 0))))
    master = MasterData(items, Boms.of(versions))
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))


def test_costs_whose_text_has_an_exponent_roll_up_exactly() -> None:
    """Own costs and purchased costs that ``str`` writes with an exponent (the compiled walk
    reads the costs' text)."""
    items = {"P1": Item("P1", standard_cost=Decimal("2.5E+3")),
             "P2": Item("P2", standard_cost=Decimal("0.00000012")),
             "P3": Item("P3", standard_cost=Decimal("1200"))}
    versions = []
    for k, extra in enumerate(("1.5E-9", "7E+2", "0.0000001", "12.50", "3")):
        code = f"M{k}"
        items[code] = Item(code, made=True, conversion_cost=Decimal(extra))
        versions.append(BomVersion(code, 1, START, (
            BomLine("P1", Decimal("0.001")), BomLine("P2", Decimal(3), Decimal("0.02")),
            BomLine("P3", Decimal(1)), *(BomLine(f"M{j}", Decimal(2)) for j in range(k)))))
    items["W"] = Item("W", made=True)  # lower level: 1200 x 1 + 2.5E+3 x 2
    versions.append(BomVersion("W", 1, START, (BomLine("P3", Decimal(1)),
                                               BomLine("P1", Decimal(2)))))
    master = MasterData(items, Boms.of(versions))
    assert {str(i.standard_cost) for i in items.values() if not i.made} == {
        "2.5E+3", "1.2E-7", "1200"}
    got = roll_up_levels(master, DAY)
    assert_same(got, roll_up_reference(master, DAY))
    assert str(got["W"].lower_level.material) == "6200"  # as Decimal addition writes it


# --- the bulk shortcuts and their fallbacks -------------------------------------------------


@pytest.mark.parametrize("fake_hash", [lambda s: len(s) % 3, lambda s: 7])
def test_component_codes_sharing_a_hash_take_the_dict_way(
        monkeypatch: pytest.MonkeyPatch, fake_hash: object) -> None:
    """Codes are numbered by their hashes in bulk, then checked: codes of one hash (never
    seen with str hashes, forced here) are numbered through a dict, with the same result."""
    master = deep_plant(depth=4)
    parents = tuple(master.boms.versions)
    comps = [line.component for vs in master.boms.versions.values() for v in vs
             for line in v.lines]
    codes, comp = rollup._nodes(parents, comps)
    assert codes[:len(parents)] == list(parents)
    assert [codes[k] for k in comp.tolist()] == comps
    monkeypatch.setattr(rollup, "hash", fake_hash, raising=False)
    forced, forced_comp = rollup._nodes(parents, comps)
    assert forced == codes and forced_comp.tolist() == comp.tolist()
    clear_compiled_boms()
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))
    clear_compiled_boms()


def test_stable_order_is_a_stable_argsort() -> None:
    rng = np.random.default_rng(5)
    for bound, size in ((1, 0), (1, 5), (7, 1000), (100_000, 20_000)):
        keys = rng.integers(0, bound, size)
        want = np.argsort(keys, kind="stable")
        assert rollup._stable_order(keys, bound).tolist() == want.tolist()
    keys = rng.integers(0, 50, 300)  # a bound too large to pack: numpy's stable argsort
    assert rollup._stable_order(keys, 2**62).tolist() == np.argsort(keys, kind="stable").tolist()


def test_negative_costs_roll_up_as_the_reference() -> None:
    """Invalid master data (validation refuses negative costs), rolled up all the same: a
    negative value takes the Decimal walk."""
    master = deep_plant(depth=4)
    items = dict(master.items)
    items["P1"] = Item("P1", standard_cost=Decimal("-2.5"))
    items["M1-2"] = replace(items["M1-2"], conversion_cost=Decimal("-0.75"))
    master = replace(master, items=items)
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))


def test_a_parent_without_any_version_has_no_bom_as_in_the_reference() -> None:
    """``Boms.of`` never makes one, but a ``Boms`` built by hand may: no BOM for that item."""
    master = deep_plant(depth=3)
    versions = dict(master.boms.versions)
    versions["M2-4"] = ()
    versions["M0-1"] = ()
    master = replace(master, boms=Boms(versions))
    clear_compiled_boms()
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))
    empty = replace(master, boms=Boms({code: () for code in versions}))
    assert_same(roll_up_levels(empty, DAY), roll_up_reference(empty, DAY))
    clear_compiled_boms()


def test_routings_are_costed_as_the_reference_costs_them() -> None:
    """Routings are costed as the reference costs them: long and short routings, a work
    center named twice (its hours add up), zero rates (skipped), rates with 60 digits (the
    sums round), and a routing naming an unknown work center, which fails only when its item
    is costed, as in the reference."""
    master = deep_plant(depth=4)
    wcs = dict(WORK_CENTERS)
    rng = random.Random(11)
    routings: dict[str, tuple[Operation, ...]] = {}
    items = dict(master.items)
    for k, code in enumerate(sorted(c for c, i in items.items() if i.made)):
        items[code] = replace(items[code], conversion_cost=None)
        routings[code] = tuple(
            Operation(10 * (j + 1), rng.choice(sorted(wcs)),
                      Decimal(rng.randint(0, 900)).scaleb(-rng.randint(0, 3)),
                      Decimal(rng.randint(0, 40)).scaleb(-1), Decimal(rng.choice((1, 3, 7))))
            for j in range(k % 9))  # no operation at all, up to eight
    routings["P0"] = (Operation(10, "NOWHERE", Decimal(1)),)  # a purchased item: not costed
    master = replace(master, items=items, work_centers=wcs, routings=routings)
    assert any(len({op.work_center for op in ops}) < len(ops) for ops in routings.values())
    clear_compiled_boms()
    want = roll_up_reference(master, DAY)
    assert_same(roll_up_levels(master, DAY), want)
    assert any(len(std.this_level.labor.as_tuple().digits) == 28
               for std in want.costs.values())  # the reference's sums did round
    made = next(code for code, ops in routings.items() if len(ops) > 2 and code != "P0")
    broken = replace(master, routings={**routings, made: (*routings[made],
                                                          Operation(99, "NOWHERE", Decimal(1)))})
    with pytest.raises(KeyError, match="NOWHERE"):
        roll_up_reference(broken, DAY)
    with pytest.raises(KeyError, match="NOWHERE"):
        roll_up_levels(broken, DAY)
    clear_compiled_boms()


def test_quantities_and_scrap_are_coded_by_value_whatever_their_text() -> None:
    """A line's (qty, scrap) is coded by its text: equal values written differently (trailing
    zeros, exponents, a zero scrap of any exponent) and different values that share digits
    still roll up as in the reference."""
    master = deep_plant(depth=5)
    qtys = ("2", "2.0", "2.00", "0.2E+1", "20E-1", "1.25", "12.5E-1", "125", "0.125")
    scraps = ("0", "0.00", "0E-7", "0.02", "0.020", "2E-2", "0.2", "0.002", "0.125")
    # Every line a different pair; 1 with a scrap of 0.05 and 10.05 without scrap first (the
    # same text if qty and scrap were simply run together).
    pairs = cycle([("1", "0.05"), ("10.05", "0"), *((q, s) for s in scraps for q in qtys)])
    boms = Boms.of([replace(v, lines=tuple(
        BomLine(line.component, *map(Decimal, next(pairs))) for line in v.lines))
        for vs in master.boms.versions.values() for v in vs])
    master = replace(master, boms=boms)
    clear_compiled_boms()
    compiled = rollup._compile(boms)
    gross = {(q * (1 + s)) for q, s in compiled.pairs}
    assert len(gross) < len(compiled.pairs)  # equal values of different text: several codes
    assert_same(roll_up_levels(master, DAY), roll_up_reference(master, DAY))
    clear_compiled_boms()
