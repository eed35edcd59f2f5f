"""Exact totals of a batch by sparse matrix products.

A batch is a count matrix C (rows: days; columns: shapes of event, how many of each on each
day), and every shape's effects are a sparse row of S (columns: stock-move keys, journal-line
keys, ...). The totals per day are C @ S. The values are Decimals: they are scaled to
integers by one power of ten, multiplied in int64 when a bound proves no sum can overflow,
otherwise in Python integers, and scaled back. Either way the result is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from backflush.domain.numbers import EXACT

INT64_SAFE = 2**62


def _back(value: int, places: int) -> Decimal:
    """``value`` × 10^-places, without trailing zeros after the point (a whole number with
    exponent 0), exactly: in integers, then one Decimal from its text."""
    while places and not value % 10:
        value //= 10
        places -= 1
    return Decimal(value) if not places else Decimal(f"{value}E-{places}")


def _back_all(values: Any, places: int) -> list[Decimal]:
    """:func:`_back` of each value of an int64 array, the trailing zeros counted in bulk."""
    zeros = np.zeros(values.size, dtype=np.int64)
    for k in range(1, min(places, 18) + 1):  # an int64 has no 19 trailing zeros (bar 0)
        zeros += values % 10**k == 0
    coefficients = values // 10**zeros
    return list(map(Decimal.scaleb, map(Decimal, coefficients.tolist()),
                    (zeros - places).tolist(), repeat(EXACT)))


def places(value: Decimal) -> int:
    """Digits after the point (read from the text, which is cheaper than the digit tuple)."""
    text = str(value)
    if "E" in text or not value.is_finite():
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        return max(-exponent, 0)
    dot = text.find(".")
    return len(text) - dot - 1 if dot >= 0 else 0


def scaled(values: Sequence[Decimal]) -> tuple[list[int], int]:
    """``values`` as integers × 10^-p, with the smallest such p."""
    p = max(map(places, values), default=0)
    return [int(v.scaleb(p, EXACT)) for v in values], p


@dataclass(frozen=True, slots=True)
class Effects:
    """One shape's row of S, compiled once: its columns and values × 10^places (also as an
    int64 array when they fit), and ``reach``, the sum of their magnitudes: a bound on what
    one event adds to any column, even when several of its values go to the same column."""

    cols: Any  # np.ndarray of int64
    units: tuple[int, ...]
    places: int
    reach: int
    array: Any  # np.ndarray of int64, or None beyond int64


def compile_effects(cols: Sequence[int], units: Sequence[int], places: int) -> Effects:
    reach = sum(abs(u) for u in units)
    array = np.asarray(units, dtype=np.int64) if reach < INT64_SAFE else None
    return Effects(np.asarray(cols, dtype=np.int64), tuple(units), places, reach, array)


def totals_of(counts: Sequence[tuple[int, int, int]], n_rows: int, shapes: Sequence[Effects],
              n_cols: int) -> dict[tuple[int, int], Decimal]:
    """Σ_s counts[row, s] × effects[s, col] × 10^-p, for every (row, col) not zero.

    ``counts``: (row, shape, how many), the shape being its place in ``shapes`` (compiled
    once by :func:`compile_effects`, so a run does not rebuild S)."""
    if not counts or not shapes:
        return {}
    p = max(s.places for s in shapes)
    factors = [10 ** (p - s.places) for s in shapes]
    per_row = [0] * n_rows
    for r, _, n in counts:
        per_row[r] += n
    bound = max(s.reach * f for s, f in zip(shapes, factors, strict=True)) * max(per_row)
    if bound < INT64_SAFE and all(s.array is not None for s in shapes):
        c = sparse.csr_matrix((np.array([n for _, _, n in counts], dtype=np.int64),
                               (np.array([r for r, _, _ in counts], dtype=np.int64),
                                np.array([k for _, k, _ in counts], dtype=np.int64))),
                              shape=(n_rows, len(shapes)))
        lengths = [len(s.units) for s in shapes]
        data = np.concatenate([s.array * f if f != 1 else s.array
                               for s, f in zip(shapes, factors, strict=True)])
        rows = np.repeat(np.arange(len(shapes), dtype=np.int64), lengths)
        s_matrix = sparse.csr_matrix((data, (rows, np.concatenate([s.cols for s in shapes]))),
                                     shape=(len(shapes), n_cols))
        product = (c @ s_matrix).tocoo()
        keep = product.data != 0
        return dict(zip(zip(product.row[keep].tolist(), product.col[keep].tolist(), strict=True),
                        _back_all(product.data[keep], p), strict=True))
    acc: dict[tuple[int, int], int] = {}
    for r, k, n in counts:
        shape, f = shapes[k], factors[k]
        for col, x in zip(shape.cols.tolist(), shape.units, strict=True):
            acc[(r, col)] = acc.get((r, col), 0) + n * x * f
    return {key: _back(v, p) for key, v in acc.items() if v}
