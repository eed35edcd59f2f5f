"""BOM accuracy from counts: each BOM line's actual usage per unit, estimated by least squares
over the intervals between counts (issue 16, item 5). Pure and exact: the figures come in as
Decimals, the normal equations are solved in :class:`fractions.Fraction`, and only the
results shown are rounded (to :data:`PLACES`, half-up).

For one component at one location, interval *i* (from one count to the next) has

* ``y_i``, the **actual consumption**: the opening count + receipts + transfers in −
  transfers out − scrap reported − sales (+ completions of the item itself) − the closing
  count;
* ``x_ij``, the **units** of the parent of each BOM line *j* that consumes the component in
  the interval (completions, good and scrapped, exploded through phantoms: a phantom line's
  units are those of the phantom built).

The model is ``y_i = Σ_j b_j x_ij + e_i``; ``b_j`` is the line's actual usage per unit,
compared with its standard usage ``qty × (1 + scrap)``. With one line it is total
consumption ÷ total units.

The rule that classifies a line (docs/accounting.md, "BOM accuracy from counts"):

* **flagged** when ``|b − standard| > tolerance × standard`` (the policy's
  ``count_tolerance`` unless the report is given one: 2 % by default);
* **non-consumption** when ``b ≤ tolerance × standard`` (the component is hardly used);
  **over-consumption** when ``b`` is above the standard, **under-consumption** when below;
* the **cause**, once there are more intervals than lines: the excess of each interval over
  standard (``y_i − Σ_j standard_j x_ij``) either follows production, a consistent ratio,
  which the fit explains: a **wrong BOM line**; or it does not, interval-specific losses
  the fit leaves in its residual: **unreported scrap** (under-consumption that the fit does
  not explain: **erratic**, miscounts or movements not recorded). The share explained,
  ``1 − RSS ÷ Σ excess²``, decides, against :data:`CONSISTENT`;
* fewer intervals than lines: no estimate, and the report says how many more counts it
  needs; exactly as many: an exact fit, whose cause cannot be told.

Stock consumed at a counted place with no BOM line behind it (no parent consumed it in any
interval) is reported on its own: it disappeared (or appeared) unexplained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from math import prod

from backflush.domain.numbers import ZERO

DEFAULT_TOLERANCE = Decimal("0.05")
CONSISTENT = Fraction(3, 4)  # share of the excess the fit must explain to be a wrong line
PLACES = Decimal("0.000001")  # estimates and residuals as shown
SUGGESTION = Decimal("0.0001")  # a suggested quantity per
SCALE = 12  # the sums of squares are worked out on the figures × 10**12, as integers


@dataclass(frozen=True, slots=True)
class LineInfo:
    """A BOM line (or the lines of one component in one BOM version, summed)."""

    parent: str
    version: int
    component: str
    qty_per: Decimal
    scrap: Decimal
    standard: Decimal  # qty × (1 + scrap): the standard usage per unit of the parent

    @property
    def bom(self) -> str:
        return f"{self.parent}@v{self.version}"


@dataclass(frozen=True, slots=True)
class Interval:
    """What happened to a component at a location between two counts."""

    component: str
    location: str
    start: date | None  # the opening count (None: the ledger's first day, nothing on hand)
    end: date
    consumption: Decimal
    units: Mapping[str, Decimal]  # BOM version key -> units of its parent consuming it


@dataclass(frozen=True, slots=True)
class LineAccuracy:
    line: LineInfo
    location: str
    estimated: Decimal | None  # actual usage per unit of the parent (None: not estimable)
    suggested: Decimal | None  # the qty per that, with the line's scrap, gives the estimate
    deviation: Decimal | None  # (estimated − standard) ÷ standard
    residual_rms: Decimal | None  # of the fit for the component at the location
    intervals: int  # intervals in the fit
    with_units: int  # of them, those in which the line's parent consumed the component
    units: Decimal  # units of the parent over the intervals
    flagged: bool
    finding: str  # over_consumption, under_consumption, non_consumption, within_tolerance,
    #               not_estimable
    cause: str  # wrong_bom_line, unreported_scrap, erratic, cannot_tell, "" (not flagged)
    note: str


@dataclass(frozen=True, slots=True)
class Unexplained:
    """Stock gone (or found) at a counted place with no BOM line behind it."""

    item: str
    location: str
    intervals: int
    consumed: Decimal  # positive: disappeared; negative: more counted than came in

    @property
    def note(self) -> str:
        what = "disappeared" if self.consumed > 0 else "appeared"
        return (f"{abs(self.consumed).normalize():f} {self.item} {what} at {self.location} "
                f"over {self.intervals} count interval(s) with no BOM line consuming it")


def solve(a: Sequence[Sequence[Fraction]], b: Sequence[Fraction]) -> list[Fraction] | None:
    """``a x = b`` exactly (Gauss-Jordan on Fractions); None when ``a`` is singular."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if m[r][col] != 0), None)
        if pivot is None:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        p = m[col][col]
        m[col] = [v / p for v in m[col]]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col], strict=True)]
    return [m[r][n] for r in range(n)]


def least_squares(x: Sequence[Sequence[Fraction]], y: Sequence[Fraction]
                  ) -> list[Fraction] | None:
    """The coefficients minimising Σ (y_i − Σ_j b_j x_ij)²: the normal equations
    XᵀX b = Xᵀy solved exactly; None when the columns are linearly dependent."""
    xtx, xty, _ = _normal(x, y)
    return solve(xtx, xty)


def _normal(x: Sequence[Sequence[Fraction | int]], y: Sequence[Fraction | int]
            ) -> tuple[list[list[Fraction]], list[Fraction], Fraction]:
    """XᵀX, Xᵀy and yᵀy."""
    p = len(x[0]) if x else 0
    cols = [[row[j] for row in x] for j in range(p)]
    xtx = [[Fraction(sum(a * b for a, b in zip(cols[i], cols[j], strict=True)))
            for j in range(p)] for i in range(p)]
    xty = [Fraction(sum(a * b for a, b in zip(cols[i], y, strict=True))) for i in range(p)]
    return xtx, xty, Fraction(sum(v * v for v in y))


def _scaled(value: Decimal) -> int:
    """``value`` × 10**SCALE, exactly (the figures have at most 12 decimal places)."""
    return int(value.scaleb(SCALE))


def _dec(value: Fraction, places: Decimal = PLACES) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        out = Decimal(value.numerator) / Decimal(value.denominator)
        return out.quantize(places, rounding=ROUND_HALF_UP).normalize() + ZERO


def _rss(busy: Sequence[Interval], keys: Sequence[str], b: Sequence[Fraction]) -> Decimal:
    """Σ of the squared residuals in quantities, for the RMS shown (in a 40-digit context:
    a figure to read, not one the estimate rests on)."""
    with localcontext() as ctx:
        ctx.prec = 40
        coef = [Decimal(bj.numerator) / Decimal(bj.denominator) for bj in b]
        total = Decimal(0)
        for iv in busy:
            r = iv.consumption - sum((c * iv.units.get(k, ZERO) for c, k in
                                      zip(coef, keys, strict=True)), Decimal(0))
            total += r * r
        return total


def _rms(rss: Decimal, n: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (rss / n).sqrt().quantize(PLACES, rounding=ROUND_HALF_UP).normalize() + ZERO


def fit(intervals: Sequence[Interval], lines: Mapping[str, LineInfo],
        tolerance: Decimal = DEFAULT_TOLERANCE
        ) -> tuple[list[LineAccuracy], Unexplained | None]:
    """The lines consuming one component at one location, estimated over its ``intervals``
    (``lines``: every BOM line met, by BOM version key); or what disappeared with no line."""
    if not intervals:
        return [], None
    location = intervals[0].location
    keys = sorted({k for iv in intervals for k, u in iv.units.items() if u})
    n, p = len(intervals), len(keys)
    if not keys:
        consumed = sum((iv.consumption for iv in intervals), ZERO)
        return [], (Unexplained(intervals[0].component, location, n, consumed)
                    if consumed else None)
    # Intervals with no completion of any line say nothing of the usage per unit: what went
    # in them is reported as gone with no BOM line behind it. The others are weighted by the
    # inverse of their production (the noise of a count grows with what went through it), so
    # with one line the estimate is total consumption ÷ total units.
    idle = [iv for iv in intervals if not any(iv.units.get(k, ZERO) for k in keys)]
    busy = [iv for iv in intervals if iv not in idle]
    lost = sum((iv.consumption for iv in idle), ZERO)
    gone = Unexplained(intervals[0].component, location, len(idle), lost) if lost else None
    n = len(busy)
    # In integers: every figure × 10**12, and the weights 1/t_i over their common
    # denominator T = Π t_i (which cancels: the normal equations and both sums of squares
    # below are all T times theirs).
    x = [[_scaled(iv.units.get(k, ZERO)) for k in keys] for iv in busy]
    y = [_scaled(iv.consumption) for iv in busy]
    t = [sum(row) for row in x]
    whole = prod(t)
    w = [whole // ti for ti in t]
    units = {k: sum((iv.units.get(k, ZERO) for iv in busy), ZERO) for k in keys}
    with_units = {k: sum(1 for iv in busy if iv.units.get(k, ZERO)) for k in keys}
    b = None
    if n >= p:
        xw = [[wi * v for v in row] for wi, row in zip(w, x, strict=True)]
        xtx = [[sum(a[i] * row[j] for a, row in zip(xw, x, strict=True)) for j in range(p)]
               for i in range(p)]
        xty = [sum(a[i] * yi for a, yi in zip(xw, y, strict=True)) for i in range(p)]
        yty = sum(wi * yi * yi for wi, yi in zip(w, y, strict=True))
        b = solve([[Fraction(v) for v in row] for row in xtx], [Fraction(v) for v in xty])
    if b is None:
        if n < p:
            note = (f"too few intervals: {n} count interval(s) for {p} BOM lines consuming "
                    f"{intervals[0].component} at {location}; count it at least {p - n} "
                    "more time(s) to estimate them")
        else:
            note = (f"the parents' completions move together in every interval: their "
                    f"usage of {intervals[0].component} at {location} cannot be told apart")
        return [LineAccuracy(lines[k], location, None, None, None, None, n, with_units[k],
                             units[k], False, "not_estimable", "", note) for k in keys], gone
    std = [Fraction(lines[k].standard) for k in keys]
    b_scaled = b  # (x and y scaled alike: b is unchanged)
    # At the weighted least-squares b: Σ w r² = yᵀWy − bᵀXᵀWy; and the excess over
    # standard, y − X s, has Σ w e² = yᵀWy − 2 sᵀXᵀWy + sᵀXᵀWX s.
    weighted = yty - sum((bj * v for bj, v in zip(b_scaled, xty, strict=True)), Fraction(0))
    spread = (yty - 2 * sum((sj * v for sj, v in zip(std, xty, strict=True)), Fraction(0))
              + sum((std[i] * xtx[i][j] * std[j] for i in range(p) for j in range(p)),
                    Fraction(0)))
    explained = 1 - max(weighted, Fraction(0)) / spread if spread > 0 else Fraction(1)
    rss = _rss(busy, keys, b)
    rms = _rms(rss, n)
    out = []
    tol = Fraction(tolerance)
    for j, k in enumerate(keys):
        info, bj, sj = lines[k], b[j], std[j]
        deviation = (bj - sj) / sj
        flagged = abs(deviation) > tol
        if not flagged:
            finding, cause = "within_tolerance", ""
        elif bj <= tol * sj:
            finding, cause = "non_consumption", "wrong_bom_line"
        else:
            finding = "over_consumption" if bj > sj else "under_consumption"
            if n == p:
                cause = "cannot_tell"
            elif explained >= CONSISTENT:
                cause = "wrong_bom_line"
            else:
                cause = "unreported_scrap" if bj > sj else "erratic"
        suggested = max(bj, Fraction(0)) / (1 + Fraction(info.scrap))
        out.append(LineAccuracy(
            info, location, _dec(bj), _dec(suggested, SUGGESTION), _dec(deviation), rms, n,
            with_units[k], units[k], flagged, finding, cause,
            _note(finding, cause, n, p, explained)))
    return out, gone


def _note(finding: str, cause: str, n: int, p: int, explained: Fraction) -> str:
    share = f"{_dec(explained * 100, Decimal('0.1'))}%"
    if cause == "wrong_bom_line" and finding != "non_consumption":
        return (f"the excess over standard follows production ({share} of it explained by "
                "one usage per unit): the BOM line is wrong")
    if cause == "unreported_scrap":
        return (f"the losses do not follow production (only {share} explained by one usage "
                "per unit): interval-specific losses, likely scrap not reported")
    if cause == "erratic":
        return (f"the shortfall does not follow production (only {share} explained): "
                "miscounts or movements not recorded")
    if cause == "cannot_tell":
        return (f"an exact fit ({n} interval(s) for {p} line(s)): count again to tell a "
                "wrong BOM line from unreported scrap")
    if finding == "non_consumption":
        return "hardly any of it is used: the BOM line may be obsolete"
    return ""
