"""The batch product gives exactly the plain sum of Decimals, in int64 and beyond it."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from backflush.domain.aggregate import _back, compile_effects, places, scaled, totals_of

values = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4,
                     allow_nan=False, allow_infinity=False)
huge = st.decimals(min_value=Decimal("-1e30"), max_value=Decimal("1e30"), places=2,
                   allow_nan=False, allow_infinity=False)


@st.composite
def batches(draw: st.DrawFn, amounts: st.SearchStrategy[Decimal]
            ) -> tuple[list[list[tuple[int, Decimal]]], list[tuple[int, int, int]], int]:
    n_cols = draw(st.integers(1, 6))
    shapes = draw(st.lists(st.lists(st.tuples(st.integers(0, n_cols - 1), amounts),
                                    min_size=1, max_size=5), min_size=1, max_size=4))
    counts = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(shapes) - 1),
                                     st.integers(1, 10**6)), min_size=1, max_size=8,
                           unique_by=lambda c: c[:2]))
    return shapes, counts, n_cols


def check(shapes: list[list[tuple[int, Decimal]]], counts: list[tuple[int, int, int]],
          n_cols: int) -> None:
    compiled = []
    for effects in shapes:
        units, places = scaled([v for _, v in effects])
        compiled.append(compile_effects([c for c, _ in effects], units, places))
    want: dict[tuple[int, int], Decimal] = {}
    with localcontext(prec=100):  # exact for these sizes
        for r, k, n in counts:
            for col, v in shapes[k]:
                want[(r, col)] = want.get((r, col), Decimal(0)) + n * v
    got = totals_of(counts, 3, compiled, n_cols)
    assert got == {key: v for key, v in want.items() if v}
    for v in got.values():  # written without trailing zeros after the point
        _, digits, exponent = v.as_tuple()
        assert isinstance(exponent, int) and exponent <= 0
        assert exponent == 0 or digits[-1] != 0


@settings(max_examples=200, deadline=None)
@given(batches(values))
def test_the_product_in_int64_is_the_decimal_sum(batch: tuple) -> None:  # type: ignore[type-arg]
    check(*batch)


@settings(max_examples=100, deadline=None)
@given(batches(huge))
def test_beyond_int64_the_product_in_python_integers_is_the_decimal_sum(
        batch: tuple) -> None:  # type: ignore[type-arg]
    check(*batch)


def test_several_values_of_one_event_on_one_column_count_together_for_the_int64_bound() -> None:
    """Each value alone times the count fits in int64; the column's total does not. Found by
    the property above: the bound looked at the largest value, not at their sum."""
    shape = [(0, Decimal("0.02")), (0, Decimal("87696313127.33")),
             (0, Decimal("87696313127.33"))]
    check([shape], [(0, 0, 525_870)], 1)


def _back_by_decimal(value: int, places: int) -> Decimal:
    """What ``_back`` wrote before it worked in integers: the same digits and exponent."""
    with localcontext(prec=200) as ctx:
        d = Decimal(value).scaleb(-places, ctx)
        return d.quantize(Decimal(1), context=ctx) if d == d.to_integral_value() \
            else d.normalize(ctx)


@settings(max_examples=500, deadline=None)
@given(st.integers(-10**40, 10**40), st.integers(0, 30))
def test_totals_come_back_as_decimals_without_trailing_zeros(value: int, places: int) -> None:
    got = _back(value, places)
    assert got.as_tuple() == _back_by_decimal(value, places).as_tuple()
    assert got == Decimal(value).scaleb(-places, Context(prec=200))


@settings(max_examples=500, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_places_are_the_digits_after_the_point(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    assert places(value) == max(-exponent, 0)
