"""Exact totals of a batch by sparse matrix products.

A batch is a count matrix C (rows: days; columns: shapes of event, how many of each on each
day), and every shape's effects are a sparse row of S (columns: stock-move keys, journal-line
keys, ...). The totals per day are C @ S. The values are Decimals: they are scaled to
integers by one power of ten, multiplied in int64 when a bound proves no sum can overflow,
otherwise in Python integers, and scaled back. Either way the result is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

INT64_SAFE = 2**62
ONE = Decimal(1)


def _back(value: int, places: int) -> Decimal:
    """``value`` × 10^-places, without trailing zeros after the point."""
    d = Decimal(value).scaleb(-places)
    return d.quantize(ONE) if d == d.to_integral_value() else d.normalize()


def places(value: Decimal) -> int:
    """Digits after the point."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


def scaled(values: Sequence[Decimal]) -> tuple[list[int], int]:
    """``values`` as integers × 10^-p, with the smallest such p."""
    p = max((places(v) for v in values), default=0)
    return [int(v.scaleb(p)) for v in values], p


def totals(counts: Sequence[tuple[int, int, int]], n_rows: int, n_shapes: int,
           effects: Sequence[tuple[int, int, int]], p: int, n_cols: int
           ) -> dict[tuple[int, int], Decimal]:
    """Σ_s counts[row, s] × effects[s, col] × 10^-p, for every (row, col) not zero.

    ``counts``: (row, shape, how many); ``effects``: (shape, column, value × 10^p).
    """
    if not counts or not effects:
        return {}
    per_row = [0] * n_rows
    for r, _, n in counts:
        per_row[r] += n
    bound = max(abs(e[2]) for e in effects) * max(per_row)
    out: dict[tuple[int, int], Decimal] = {}
    if bound < INT64_SAFE:
        c = sparse.csr_matrix((np.array([n for _, _, n in counts], dtype=np.int64),
                               (np.array([r for r, _, _ in counts], dtype=np.int64),
                                np.array([s for _, s, _ in counts], dtype=np.int64))),
                              shape=(n_rows, n_shapes))
        s = sparse.csr_matrix((np.array([e[2] for e in effects], dtype=np.int64),
                               (np.array([e[0] for e in effects], dtype=np.int64),
                                np.array([e[1] for e in effects], dtype=np.int64))),
                              shape=(n_shapes, n_cols))
        product = (c @ s).tocoo()
        for r, col, v in zip(product.row.tolist(), product.col.tolist(),
                             product.data.tolist(), strict=True):
            if v:
                out[(r, col)] = _back(v, p)
        return out
    # Beyond int64: the same sums in Python integers.
    by_shape: dict[int, list[tuple[int, int]]] = {}
    for shape, col, x in effects:
        by_shape.setdefault(shape, []).append((col, x))
    acc: dict[tuple[int, int], int] = {}
    for r, shape, n in counts:
        for col, x in by_shape.get(shape, ()):
            acc[(r, col)] = acc.get((r, col), 0) + n * x
    return {key: _back(v, p) for key, v in acc.items() if v}
