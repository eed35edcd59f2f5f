"""Standard cost roll-up level by level: the recursive roll-up's numbers, much faster.

:func:`backflush.domain.costing.roll_up_reference` walks the BOM graph item by item. Here the
BOM graph is compiled into integer arrays (NumPy), checked for cycles and cut into levels (an
item's level is the length of its longest chain of components, over every BOM version), and
the levels are rolled up bottom-up: in compiled code where it was built, else on NumPy arrays.

**Exactly the reference's numbers.** The reference multiplies with
:func:`backflush.domain.numbers.mul` (60 significant digits, exact here) but *adds* in the
ambient decimal context: 28 significant digits, half even, by default. A deep BOM with scrap
factors has more digits than that, so the reference rounds its running sums, line after line,
in BOM order. Both walks reproduce that rounding digit for digit. Only values matter
(``Decimal`` equality is numeric): a zero term, which cannot change a sum, is skipped, and
both walks write results alike, as Decimal addition writes such sums: no trailing zeros after
the decimal point, a whole number of at most the context's digits without an exponent.

- **The compiled walk** (``_levels.c``, built by ``make install`` where there is a C compiler
  with 128-bit integers; loaded with :mod:`ctypes`): item by item, line by line, as the
  reference, on 128-bit integers. A kept value has at most 28 digits and a gross quantity at
  most 9, so a term (at most 37) and the exact sum of two numbers near in magnitude fit; when
  they are far apart, the smaller one's digits far below the rounding position are one
  "sticky" digit, as libmpdec does (the proof is beside the code). The costs go in as their
  text. It takes a precision up to 28 digits (the default).
- **The arrays** (up to 36 digits, or where nothing was compiled): a running sum is a
  multi-limb integer (int64 arrays) on a grid fine enough to hold each of its terms exactly,
  and after each addition it is rounded half even to the context's precision, as
  :meth:`decimal.Context.add` does; the sums of a level advance in lockstep, one BOM line
  position at a time (a sum that cannot reach the precision is added up in one go).

Done in Decimal, as the reference does it: each item's own conversion (routing hours x
work-center rates, explicit conversion cost, phantoms' conversion and hours) and the gross
quantity of each distinct (qty, scrap) pair. What neither walk handles (another rounding
mode, a precision above 36 digits, traps on rounding, a gross quantity with more than 9
significant digits, a negative cost), and, without the compiled walk, a deep, thin graph (a
long chain: a pass per level would cost more than it saves), goes item by item in level
order, in Decimal.

**Compiled once.** Reading a million BOM lines costs more than rolling them up, and depends on
the :class:`Boms` object alone (not on the items, the date or the decimal context); the routing
costs depend on the routings and work centers alone. The last ones are kept and reused while
the very same, unchanged objects come back (e.g. a standard cost change rolls up again with
new item costs and the same BOMs); :func:`clear_compiled_boms` drops them. The reading itself
goes over the lines twice, each time in one comprehension: the component codes, numbered by
their hashes (cached in the strings), sorted in bulk and then checked string for string (a
dict lookup per line costs more); and each line's (qty, scrap), coded by their joint text,
read right after the line (a pass per field costs more). The output objects are built a
field at a time, in C-level passes.

The roll-up makes no reference cycles: the cyclic garbage collector is paused while it runs
(it would only walk the master data again and again).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import (
    ROUND_HALF_EVEN,
    Clamped,
    Context,
    Decimal,
    Inexact,
    Rounded,
    Subnormal,
    Underflow,
    getcontext,
)
from itertools import chain, count, repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np
import numpy.typing as npt

from backflush.domain.bom import BomLine, Boms, BomVersion, check_acyclic
from backflush.domain.costing import Cost, CostVersion, MasterData, StandardCost
from backflush.domain.errors import BomCycleError
from backflush.domain.items import Item
from backflush.domain.numbers import EXACT, ONE, ZERO, to_decimal

Ints = npt.NDArray[np.int64]
N_ELEMENTS = 4  # material, labor, overhead, conversion, as in Cost

_lines = attrgetter("lines")


class _Unsupported(Exception):
    """The arrays cannot reproduce the reference here: take the Decimal walk."""


def _ranges(starts: Ints, counts: Ints) -> Ints:
    """The concatenation of ``range(start, start + count)`` for each pair."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(total, dtype=np.int64)


def _stable_order(keys: Ints, bound: int) -> Ints:
    """``np.argsort(keys, kind="stable")`` for keys in ``range(bound)``: a plain sort of
    ``key * size + position`` (a vectorised sort, several times faster) when it fits."""
    m = keys.size
    if bound * (m + 1) >= 2**62:
        return np.argsort(keys, kind="stable")
    out: Ints = np.sort(keys * m + np.arange(m, dtype=np.int64)) % m if m else keys.copy()
    return out


def _text_codes(texts: list[str]) -> tuple[Ints, list[int]]:
    """A code per text (the same text, the same code: 0, 1, ... in order of first
    occurrence) and, for each code, where its text first occurs."""
    n = len(texts)
    first: dict[str, int] = {}  # text -> position of its first occurrence
    raw = np.fromiter(map(first.setdefault, texts, count()), np.int64, n)
    pos = np.fromiter(first.values(), np.int64, len(first))
    dense = np.zeros(n, np.int64)
    dense[pos] = np.arange(pos.size)
    code: Ints = dense[raw]
    return code, pos.tolist()


def _heights(n: int, parent: Ints, comp: Ints) -> Ints | None:
    """Each node's level (0: no components), or ``None`` if the graph has a cycle.

    Kahn's algorithm a level at a time: peel the nodes whose components are all levelled.
    """
    height = np.full(n, -1, np.int64)
    remaining = np.bincount(parent, minlength=n)  # lines whose component is not levelled
    users = parent[_stable_order(comp, n)]  # each line's parent, by component
    first = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(comp, minlength=n), out=first[1:])
    frontier = np.flatnonzero(remaining == 0)
    level = done = 0
    while frontier.size:
        height[frontier] = level
        done += frontier.size
        hit = users[_ranges(first[frontier], first[frontier + 1] - first[frontier])]
        if not hit.size:
            break
        if hit.size * 8 > n:
            remaining -= np.bincount(hit, minlength=n)
            hit = np.flatnonzero(np.bincount(hit, minlength=n))
        else:  # a narrow level (a long chain): touch only what changes
            np.subtract.at(remaining, hit, 1)
            hit = np.unique(hit)
        frontier = hit[remaining[hit] == 0]
        level += 1
    return height if done == n else None


def _nodes(parents: tuple[str, ...], comps: list[str],
           distinct: int | None = None) -> tuple[list[str], Ints]:
    """The node codes (the parents, then the other components in order of first use) and each
    line's component node.

    By the codes' hashes (cached in the strings: the Boms hashed them all), sorted in bulk:
    a dict lookup per line costs more. Equal codes have equal hashes; two codes of one hash
    (never seen, but possible) take the dict way. When ``distinct``, the number of distinct
    codes, is known and there are as many distinct hashes, no two codes share one; else each
    line's code is compared with its node's code.
    """
    n_p, m = len(parents), len(comps)
    hashes = np.fromiter(map(hash, chain(parents, comps)), np.int64, n_p + m)
    order = np.argsort(hashes)
    ordered = hashes[order]
    group = np.zeros(order.size, np.int64)  # the distinct hashes, in sorted order
    np.cumsum(ordered[1:] != ordered[:-1], out=group[1:])
    inverse = np.empty(order.size, np.int64)
    inverse[order] = group
    first = np.full(int(group[-1]) + 1 if group.size else 0, order.size, np.int64)
    np.minimum.at(first, inverse, np.arange(order.size, dtype=np.int64))
    by_use = np.argsort(first)  # the distinct hashes in order of first occurrence
    rank = np.empty(by_use.size, np.int64)
    rank[by_use] = np.arange(by_use.size, dtype=np.int64)
    node = rank[inverse]
    at = first[by_use]  # where each node's code first appears (parents, then lines)
    codes = np.empty(at.size, object)
    codes[:] = [parents[k] if k < n_p else comps[k - n_p] for k in at.tolist()]
    if np.array_equal(node[:n_p], np.arange(n_p)):
        if distinct == by_use.size:
            return codes.tolist(), node[n_p:]
        if bool(np.all(codes[node[n_p:]] == np.fromiter(comps, object, m))):
            return codes.tolist(), node[n_p:]
    index = dict(zip(parents, range(n_p), strict=True))  # a hash shared by two codes
    raw = np.fromiter(map(index.setdefault, comps, count(n_p)), np.int64, m)
    provisional = np.fromiter(index.values(), np.int64, len(index))
    to_node = np.zeros(n_p + m, np.int64)  # provisional code -> node
    to_node[provisional] = np.arange(len(index))
    return list(index), to_node[raw]


class _Compiled:
    """What a roll-up needs from the BOMs alone, as arrays.

    Nodes are the BOM parents (in ``boms.versions`` order), then the components that are no
    parent, in order of first use (``codes``). Every version's lines, parent by parent and
    version by version, give ``parent``, ``comp`` (nodes) and ``pair``: the line's (qty,
    scrap) as an index into ``pairs``; version ``j`` of parent ``p`` begins at line
    ``v_start[v_first[p] + j]``. ``height`` is ``None`` if the BOMs have a cycle.
    """

    def __init__(self, boms: Boms) -> None:
        self.boms = boms
        self.parents = tuple(boms.versions)
        self.versions = tuple(boms.versions.values())
        n_parents = len(self.parents)
        self.n_versions = np.fromiter(map(len, self.versions), np.int64, n_parents)
        every = list(chain.from_iterable(self.versions))  # every version, parent by parent
        v_lines = list(map(_lines, every))
        lines: list[BomLine] = list(chain.from_iterable(v_lines))
        v_size = np.fromiter(map(len, v_lines), np.int64, len(v_lines))
        self.v_start = np.cumsum(v_size) - v_size  # where each version's lines begin
        self.v_first = np.cumsum(self.n_versions) - self.n_versions  # a parent's first one
        # (A parent with no version at all, which Boms.of never makes, has no BOM.)
        first = np.where(self.n_versions > 0, self.v_first, 0) if every else \
            np.zeros(n_parents, np.int64)
        self.first_version = list(map(every.__getitem__, first.tolist())) if every else []
        self.first_start = self.v_start[first] if every else first
        self.first_size = v_size[first] if every else first
        per_parent = np.zeros(n_parents, np.int64)
        np.add.at(per_parent, np.repeat(np.arange(n_parents, dtype=np.int64), self.n_versions),
                  v_size)
        # The distinct codes, parents and components, by the Boms' own index of components
        # (built with it, by equality).
        distinct = len(boms.versions.keys() | boms._parents.keys())
        # One pass per field over the lines (a comprehension reads slots faster than map).
        self.codes, self.comp = _nodes(self.parents, [ln.component for ln in lines], distinct)
        self.index = dict(zip(self.codes, range(len(self.codes)), strict=True))  # code -> node
        self.parent: Ints = np.repeat(np.arange(n_parents, dtype=np.int64), per_parent)
        self.height = _heights(len(self.codes), self.parent, self.comp)

        # A code per distinct (qty, scrap), by their text, in one pass over the lines: a
        # line's Decimals are read right after the line (a pass per field costs more), and
        # their text is hashed (hashing a Decimal is slow, its text is not). A zero scrap, of
        # whatever exponent, is no scrap: qty x (1 + 0) is qty.
        self.pair, at = _text_codes(
            [str(ln.qty) if not (s := ln.scrap) else str(ln.qty) + " " + str(s)
             for ln in lines])
        self.pairs = [(ln.qty, ln.scrap) for ln in map(lines.__getitem__, at)]

    def still(self, boms: Boms) -> bool:
        """Compiled from this very ``boms``, and its versions not swapped since."""
        versions = boms.versions
        return (boms is self.boms and len(versions) == len(self.versions)
                and all(map(is_, versions.values(), self.versions))
                and all(map(is_, versions, self.parents)))


_compiled: list[_Compiled] = []  # the last BOMs compiled


def _compile(boms: Boms) -> _Compiled:
    for c in _compiled:
        if c.still(boms):
            return c
    c = _Compiled(boms)
    _compiled[:] = [c]
    return c


def clear_compiled_boms() -> None:
    """Forget the compiled BOMs (and routing costs) kept for the next roll-up (to free the
    memory, or for a cold benchmark)."""
    _compiled.clear()
    _routed.clear()


# --- multi-limb decimal integers ----------------------------------------------------------
#
# A column of an int64 array of shape (limbs, n) is a non-negative integer, least significant
# limb first, in base 10**9 (products of a limb and a gross quantity fit in int64) or, for
# running sums, base 10**18 (half the limbs to carry and compare).

_D9, _B9 = 9, 10**9
_D18, _B18 = 18, 10**18
_POW = np.array([10**k for k in range(19)], np.int64)


def _digits(v: Ints) -> Ints:
    """Decimal digits of each value below 10**18 (0 for 0)."""
    return np.searchsorted(_POW, v, side="right").astype(np.int64)


# Gathering or scattering columns of a 2-D array with an index array is slow in NumPy; whole
# rows, or one value per column through the flat array, are not.

def _take(x: Ints, cols: Ints) -> Ints:
    return np.take(x, cols, axis=1)


def _put(x: Ints, cols: Ints, values: Ints) -> None:
    for j in range(x.shape[0]):
        x[j][cols] = values[j]


def _pick(x: Ints, limb: Ints) -> Ints:
    """``x[limb[k], k]`` for each column ``k``."""
    n = x.shape[1]
    out: Ints = np.take(x.reshape(-1), limb * n + np.arange(n))
    return out


def _ndigits(x: Ints, per_limb: int) -> Ints:
    """Decimal digits of each column's number (0 for 0)."""
    limbs, n = x.shape
    if not limbs or not n:
        return np.zeros(n, np.int64)
    top = np.zeros(n, np.int64)
    for j in range(1, limbs):
        top[x[j] != 0] = j
    v = _pick(x, top)
    return np.where(v != 0, top * per_limb + _digits(v), 0)


def _carry(x: Ints, base: int) -> None:
    """Bring every limb but the last below ``base`` (limbs are non-negative)."""
    for j in range(x.shape[0] - 1):
        c = x[j] // base
        x[j] -= c * base
        x[j + 1] += c


def _shift_up(x: Ints, s: Ints, limbs: int) -> Ints:
    """Each column (base 10**9) times 10**s, s >= 0, in ``limbs`` limbs (enough of them)."""
    lx, n = x.shape
    if not n:
        return np.zeros((limbs, 0), np.int64)
    a, b = np.divmod(s, _D9)
    np.minimum(a, limbs, out=a)
    lo, hi = int(a.min()), int(a.max())
    # The column times 10**b, carried, with ``hi`` zero rows below it and enough above:
    # limb j of the result is then row ``hi + j - a`` of this.
    above = max(limbs - lo - lx - 1, 0)
    ext = np.empty((hi + lx + 1 + above, n), np.int64)
    ext[:hi] = 0
    y = ext[hi:hi + lx + 1]
    if b.any():
        np.multiply(x, _POW[b], out=y[:-1])
    else:
        y[:-1] = x
    y[-1] = 0
    ext[hi + lx + 1:] = 0
    _carry(y, _B9)
    if lo == hi:
        return ext[:limbs].copy()
    out = np.empty((limbs, n), np.int64)
    flat = ext.reshape(-1)
    at = (hi - a) * n + np.arange(n, dtype=np.int64)
    for j in range(limbs):
        np.take(flat, at, out=out[j])
        at += n
    return out


def _shift_down(x: Ints, t: Ints, limbs: int) -> Ints:
    """Each column (base 10**9) divided by 10**t (t >= 0, truncating), in ``limbs`` limbs."""
    n = x.shape[1]
    a, b = np.divmod(t, _D9)
    padded = np.zeros((x.shape[0] + limbs + 1, n), np.int64)
    padded[:x.shape[0]] = x
    flat = padded.reshape(-1)
    cols = np.arange(n)
    base = np.minimum(a, x.shape[0])
    lo_div, hi_mul = _POW[b], _POW[_D9 - b]
    out = np.empty((limbs, n), np.int64)
    below = np.take(flat, base * n + cols)
    for j in range(limbs):
        above = np.take(flat, (base + j + 1) * n + cols)
        out[j] = below // lo_div + (above % lo_div) * hi_mul
        below = above
    return out


def _strip(coef: Ints, exp: Ints) -> tuple[Ints, Ints]:
    """Drop trailing zero digits: the same numbers, fewer digits."""
    limbs, n = coef.shape
    if not n:
        return coef, exp
    low = np.full(n, limbs - 1, np.int64)
    for j in range(limbs - 1, -1, -1):
        low[coef[j] != 0] = j
    limb = _pick(coef, low)
    tz = low * _D9
    for k in range(1, _D9):
        tz += limb % _POW[k] == 0
    tz[limb == 0] = 0
    if not tz.any():
        return coef, exp
    return _shift_down(coef, tz, limbs), exp + tz


def _round18(x: Ints, prec: int) -> bool:
    """Round each column (base 10**18, more than ``prec`` digits) in place to ``prec``
    significant digits, half to even. Returns whether a non-zero digit was discarded."""
    limbs, q = x.shape
    r = _ndigits(x, _D18) - prec  # the number of digits to drop, >= 1
    jp, op = np.divmod(r - 1, _D18)  # the first dropped digit
    limb_p = _pick(x, jp)
    digit = (limb_p // _POW[op]) % 10
    sticky = limb_p % _POW[op] != 0
    for j in range(limbs - 1):
        sticky |= (j < jp) & (x[j] != 0)
    jr, orr = np.divmod(r, _D18)  # the last kept digit
    kept = _pick(x, jr) // _POW[orr]
    up = (digit > 5) | ((digit == 5) & (sticky | (kept % 2 == 1)))
    for j in range(limbs):
        x[j][j < jr] = 0
    x.reshape(-1)[jr * q + np.arange(q)] = (kept + up) * _POW[orr]
    _carry(x, _B18)
    return bool(digit.any() or sticky.any())


@dataclass
class _Nums:
    """Decimal numbers as columns: value = coef * 10**exp, coef in base-10**9 limbs."""

    coef: Ints
    exp: Ints


def _fold(terms: _Nums, row: Ints, n_rows: int, prec: int,
          digits: Ints | None = None) -> tuple[_Nums, bool]:
    """``S = round(S + term)`` over each row's terms in order, from ``S = 0``.

    ``row`` (non-decreasing) says which sum each term goes to; zero terms may be left out,
    they change nothing. The rounding is the decimal context's: ``prec`` significant digits,
    half even. Every sum is kept exactly on a grid that holds each of its terms (10**the
    smallest term exponent): a row whose terms cannot add up to more than ``prec`` digits is
    summed in one go; the others advance together a term at a time and are rounded whenever
    they grow beyond ``prec`` digits (``digits``: the terms' digits, or a bound on them).
    Returns the sums (at most ``prec`` digits, no trailing
    zeros; 0 for a row without terms) and whether any rounding was inexact.
    """
    width = -(-prec // _D9)
    out = np.zeros((width, n_rows), np.int64)
    out_exp = np.zeros(n_rows, np.int64)
    m = row.size
    if not m:
        return _Nums(out, out_exp), False
    counts = np.bincount(row, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    present = np.flatnonzero(counts)
    grid = np.zeros(n_rows, np.int64)
    grid[present] = np.minimum.reduceat(terms.exp, starts[present])
    shift = terms.exp - grid[row]
    need = np.zeros(n_rows, np.int64)  # a bound on the digits of every partial sum
    if digits is None:
        digits = _ndigits(terms.coef, _D9)
    need[present] = np.maximum.reduceat(digits + shift, starts[present])
    need += _digits(counts)
    if int(need.max()) * m > 200_000_000:  # digits x terms: limbs and memory beyond reason
        raise _Unsupported("the terms of a sum span too many orders of magnitude")
    inexact = False

    small = min(prec, 18)
    rows = np.flatnonzero((need <= small) & (counts > 0))
    if rows.size:  # exact sums below 10**18: one int64 each
        sel = _ranges(starts[rows], counts[rows])
        c = _take(terms.coef[:2], sel)
        t = (c[0] + c[1] * _B9 if c.shape[0] > 1 else c[0]) * _POW[shift[sel]]
        sums = np.add.reduceat(t, np.cumsum(counts[rows]) - counts[rows])
        out[0][rows] = sums % _B9
        if width > 1:
            out[1][rows] = sums // _B9
        out_exp[rows] = grid[rows]

    rows = np.flatnonzero((need > small) & (need <= prec))
    if rows.size:  # exact sums
        sel = _ranges(starts[rows], counts[rows])
        limbs = int(need[rows].max()) // _D9 + 1
        t = _shift_up(_take(terms.coef, sel), shift[sel], limbs)
        sums = np.add.reduceat(t, np.cumsum(counts[rows]) - counts[rows], axis=1)
        _carry(sums, _B9)
        k = min(width, sums.shape[0])  # the limbs above are zeros
        _put(out[:k], rows, sums[:k])
        out_exp[rows] = grid[rows]

    rows = np.flatnonzero(need > prec)
    if rows.size:  # sums that round: a term at a time, in base 10**18
        cnt = counts[rows]
        # Step-major order: step k's terms are the k-th term of each row with more than k,
        # the rows by decreasing number of terms (those still adding are a prefix).
        by_count = np.argsort(-cnt, kind="stable")
        place = np.empty(rows.size, np.int64)  # a row's column in the running sums
        place[by_count] = np.arange(rows.size, dtype=np.int64)
        rank = _ranges(np.zeros(rows.size, np.int64), cnt)
        per_step = np.bincount(rank)
        step_at = np.cumsum(per_step) - per_step
        sel = _ranges(starts[rows], cnt)
        dest = step_at[rank] + np.repeat(place, cnt)
        limbs = (int(need[rows].max()) // _D18 + 1) * 2
        # Shifted in place (terms read in order), then scattered to step-major order.
        t9 = _shift_up(_take(terms.coef, sel), shift[sel], limbs)
        t = np.empty((limbs // 2, sel.size), np.int64)
        for j in range(limbs // 2):
            t[j][dest] = t9[2 * j] + t9[2 * j + 1] * _B9
        rows = rows[by_count]
        acc = np.zeros((limbs // 2, rows.size), np.int64)
        hl, rem = divmod(prec, _D18)
        threshold = _POW[rem]
        for k, nk in enumerate(per_step.tolist()):  # the rows with more than k terms
            s = acc[:, :nk]
            s += t[:, int(step_at[k]):int(step_at[k]) + nk]
            for j in range(s.shape[0] - 1):
                c = s[j] >= _B18
                s[j] -= c * _B18
                s[j + 1] += c
            wide = s[hl] >= threshold
            for j in range(hl + 1, s.shape[0]):
                wide |= s[j] != 0
            at = np.flatnonzero(wide)
            if at.size == nk:
                sub = s.copy()
                inexact |= _round18(sub, prec)
                s[:] = sub
            elif at.size:
                sub = _take(s, at)
                inexact |= _round18(sub, prec)
                _put(s, at, sub)
        x9 = np.empty((acc.shape[0] * 2, rows.size), np.int64)
        x9[0::2] = acc % _B9
        x9[1::2] = acc // _B9
        cut = np.maximum(_ndigits(x9, _D9) - prec, 0)  # zeros by now
        _put(out, rows, _shift_down(x9, cut, width))
        out_exp[rows] = grid[rows] + cut
    coef, exp = _strip(out, out_exp)
    return _Nums(coef, exp), inexact


def _to_nums(values: Sequence[Decimal], prec: int) -> _Nums:
    """Non-zero Decimals of at most ``prec`` (<= 36) digits, as columns without trailing
    zeros. A negative one is for the Decimal walk.

    Read from their text in bulk (a Decimal's text is cheap to make, its digits are not):
    every digit of every number goes to its limb in a few array passes."""
    n = len(values)
    texts = list(map(str, values))
    joined = "".join(texts)
    if n and not any(ch in joined for ch in "E-NnIi"):  # plain positional notation
        width = -(-prec // _D9)
        chars = np.frombuffer(joined.encode("ascii"), np.uint8)
        sizes = np.fromiter(map(len, texts), np.int64, n)
        ends = np.cumsum(sizes)
        dots = np.fromiter(map(str.find, texts, repeat(".")), np.int64, n)  # -1: none
        at = np.flatnonzero((chars != 46) & (chars != 48))  # the non-zero digits
        owner = np.repeat(np.arange(n, dtype=np.int64), sizes)[at]
        dot_at = np.where(dots >= 0, ends - sizes + dots, -1)  # in ``joined``
        # A digit's place: 0 for the last digit of its number, counting leftwards past the
        # decimal point.
        # (At most ``prec`` digits: every place is below ``width`` limbs.)
        place = ends[owner] - 1 - at - (dot_at[owner] > at)
        limb, power = np.divmod(place, _D9)
        # Each limb's sum of digit x 10**power stays below 10**9: exact in float64.
        coef = np.bincount(limb * n + owner,
                           weights=(chars[at] - 48) * _POW[power].astype(np.float64),
                           minlength=width * n).astype(np.int64).reshape(width, n)
        coef, exp = _strip(coef, np.where(dots >= 0, dots + 1 - sizes, 0))
        return _Nums(coef, exp)
    width = -(-prec // _D9)
    coef = np.zeros((width, n), np.int64)
    if not n:
        return _Nums(coef, np.zeros(0, np.int64))
    adj = np.fromiter(map(Decimal.adjusted, values), np.int64, n)
    top = prec - 1
    ints = np.fromiter(map(int, map(Decimal.scaleb, values, (top - adj).tolist())), object, n)
    high = ints // _B18
    hi = high.astype(np.int64)
    if (hi < 0).any():  # invalid master data (a negative cost), rolled up all the same
        raise _Unsupported("a negative value")
    lo = (ints - high * _B18).astype(np.int64)
    for j in range(width):
        src = lo if j < 2 else hi
        coef[j] = (src // _POW[_D9 * (j % 2)]) % _B9
    coef, exp = _strip(coef, adj - top)
    return _Nums(coef, exp)


def _to_decimals(nums: _Nums, prec: int) -> list[Decimal]:
    """Columns (at most 36 digits, no trailing zeros) back to Decimals (see
    :func:`_decimals`)."""
    n = nums.exp.size
    if not n:
        return []
    coef, exp = nums.coef, nums.exp
    width = coef.shape[0]
    hi = np.zeros(n, np.int64)
    for j in range(width - 1, 1, -1):
        hi = hi * _B9 + coef[j]
    lo = coef[1] * _B9 + coef[0] if width > 1 else coef[0]
    return _decimals(lo, hi, exp, prec)


def _decimals(lo: Ints, hi: Ints, exp: Ints, prec: int) -> list[Decimal]:
    """The Decimals ``(hi * 10**18 + lo) * 10**exp`` (coefficients without trailing zeros),
    written as Decimal addition writes such a sum: a whole number of at most ``prec``
    digits without an exponent (``75210``, not ``7.521E+4``). Both walks give the same
    text."""
    ints = lo.astype(object)
    big = np.flatnonzero(hi)
    if big.size:
        ints[big] += hi[big].astype(object) * _B18
    up = np.flatnonzero(exp > 0)
    if up.size:
        exp = exp.copy()
        for k in up.tolist():
            whole = ints[k] * 10 ** int(exp[k])
            if len(str(whole)) <= prec:
                ints[k], exp[k] = whole, 0
    return list(map(Decimal.scaleb, map(Decimal, ints.tolist()), exp.tolist()))


# --- routing costs -------------------------------------------------------------------------

_SIGNALS = (Inexact, Rounded, Subnormal, Underflow, Clamped)


def _context_key(ctx: Context) -> tuple[object, ...]:
    return (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, ctx.clamp, ctx.capitals,
            tuple(ctx.traps[s] for s in _SIGNALS), EXACT.prec, EXACT.rounding)


class _RoutingCosts:
    """Each routing's labor, overhead, undivided conversion and hours by work center per unit,
    as the reference's ``routing_cost`` adds them up (a zero rate adds zero: skipped)."""

    def __init__(self, master: MasterData, ctx: Context, exact: Context) -> None:
        self.routings = master.routings
        self.work_centers = master.work_centers
        self.keys = (tuple(self.routings), tuple(self.routings.values()),
                     tuple(self.work_centers), tuple(self.work_centers.values()))
        self.context = _context_key(ctx)
        local = ctx.copy()
        local.clear_flags()
        add = local.add
        mul = exact.multiply if local.prec <= exact.prec else _wide_mul(exact)
        self.costs: dict[str, tuple[Decimal, Decimal, Decimal, dict[str, Decimal]]] = {}
        costs, divide = self.costs, exact.divide
        rates = {code: (wc.labor_rate or None, wc.overhead_rate or None,
                        wc.conversion_rate or None)
                 for code, wc in self.work_centers.items()}
        for code, ops in self.routings.items():
            if not ops:
                continue
            labor = overhead = conversion = ZERO
            by_wc: dict[str, Decimal] = {}
            try:
                for op in ops:
                    wc_code = op.work_center
                    labor_rate, overhead_rate, conversion_rate = rates[wc_code]
                    h = add(op.run_hours, divide(op.setup_hours, op.lot_size))
                    if labor_rate is not None:
                        labor = add(labor, mul(h, labor_rate))
                    if overhead_rate is not None:
                        overhead = add(overhead, mul(h, overhead_rate))
                    if conversion_rate is not None:
                        conversion = add(conversion, mul(h, conversion_rate))
                    by_wc[wc_code] = add(by_wc[wc_code], h) if wc_code in by_wc else add(ZERO, h)
            except KeyError:  # an unknown work center: fails when (if) the item is costed
                continue
            costs[code] = (labor, overhead, conversion, by_wc)
        self.failed = {code for code in self.routings if code not in self.costs
                       and self.routings[code]}
        self.signals = [s for s in _SIGNALS if local.flags[s]]

    def still(self, master: MasterData, ctx: Context) -> bool:
        """Built from these very routings and work centers, unchanged, in the same context."""
        routings, work_centers = master.routings, master.work_centers
        keys, ops, wc_keys, wcs = self.keys
        return (routings is self.routings and work_centers is self.work_centers
                and len(routings) == len(keys) and len(work_centers) == len(wc_keys)
                and all(map(is_, routings, keys)) and all(map(is_, routings.values(), ops))
                and all(map(is_, work_centers, wc_keys))
                and all(map(is_, work_centers.values(), wcs))
                and _context_key(ctx) == self.context)


_routed: list[_RoutingCosts] = []  # the last routings costed


def _routing_costs(master: MasterData, ctx: Context, exact: Context) -> _RoutingCosts:
    for r in _routed:
        if r.still(master, ctx):
            break
    else:
        r = _RoutingCosts(master, ctx, exact)
        _routed[:] = [r]
    for code in r.failed:
        item = master.items.get(code)
        if item is not None and (item.made or item.phantom):
            for op in master.routings[code]:
                master.work_centers[op.work_center]  # raises the KeyError
    return r


def _wide_mul(exact: Context) -> Callable[[Decimal, Decimal], Decimal]:
    """numbers.mul when the ambient precision exceeds 60: it first rounds ONE * a."""
    def mul(a: Decimal, b: Decimal) -> Decimal:
        return exact.multiply(exact.multiply(ONE, a), b)
    return mul


# --- the compiled level walk ----------------------------------------------------------------

_I64P = ctypes.POINTER(ctypes.c_int64)


def _texts(values: list[Decimal], at: Ints) -> tuple[bytes, Ints, Ints, int]:
    """The non-zero ``values`` as one ASCII text, where each ends, and their places ``at``
    (a Decimal's text is cheap to make; ``_levels.c`` reads it)."""
    keep = np.flatnonzero(np.fromiter(map(bool, values), np.bool_, len(values)))
    texts = list(map(str, map(values.__getitem__, keep.tolist())))
    ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)))
    return "".join(texts).encode("ascii"), ends, np.ascontiguousarray(at[keep]), keep.size


class _Kernel:
    """``_levels.c``'s functions (a shared library built with the package where a C compiler
    with 128-bit integers is at hand), called with NumPy arrays."""

    ABI = 2  # backflush_abi_version() of the C code these signatures were written for
    _I = ctypes.c_int64
    _LEVELS = (_I, _I, ctypes.c_char_p, _I64P, _I64P, _I, ctypes.c_char_p, _I64P, _I64P, _I,
               ctypes.POINTER(ctypes.c_uint8), _I, _I64P, _I64P, _I64P, _I64P, _I64P,
               _I64P, _I64P, _I64P, _I64P, _I64P, _I, _I64P, _I64P, _I64P)
    _FOLD_ROWS = (_I, _I64P, _I, _I64P, _I, _I64P, _I, _I64P, _I, _I64P)

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        version = lib.backflush_abi_version
        version.restype, version.argtypes = ctypes.c_int64, ()
        if version() != self.ABI:
            raise ImportError(f"{path}: built from another version of _levels.c")
        self._levels = lib.backflush_levels
        self._levels.restype, self._levels.argtypes = ctypes.c_int64, self._LEVELS
        self._fold_rows = lib.backflush_fold_rows
        self._fold_rows.restype, self._fold_rows.argtypes = ctypes.c_int64, self._FOLD_ROWS

    @staticmethod
    def _args(values: Sequence[int | bytes | npt.NDArray[Any]],
              types: Sequence[Any]) -> list[Any]:
        """The arguments as the C function takes them, checked against its signature."""
        if len(values) != len(types):
            raise TypeError(f"{len(types)} arguments expected, {len(values)} given")
        out: list[Any] = []
        for v, kind in zip(values, types, strict=True):
            if isinstance(v, np.ndarray):
                dtype = np.uint8 if kind is not _I64P else np.int64
                if not v.flags.c_contiguous or v.dtype != dtype:
                    raise TypeError(f"a C-contiguous {np.dtype(dtype)} array expected")
                out.append(v.ctypes.data_as(kind))
            else:
                out.append(v)  # an int or bytes: ctypes converts it by argtypes (or refuses)
        return out

    def levels(self, *values: int | bytes | npt.NDArray[Any]) -> bool:
        """``backflush_levels``: the level walk; returns whether a rounding was inexact."""
        code = int(self._levels(*self._args(values, self._LEVELS)))
        if code < 0:
            raise _Unsupported(f"the compiled level walk refused its input ({code})")
        return code == 1

    def fold_rows(self, bounds: Ints, coef: Ints, exp: Ints, prec: int) -> tuple[_Nums, bool]:
        """``backflush_fold_rows``: each row's terms (columns ``bounds[r]:bounds[r + 1]`` of
        ``coef``, base-10**9 limbs, and ``exp``) added up in order as Decimal addition at
        ``prec`` digits does; returns the sums and whether a rounding was inexact."""
        width = -(-prec // _D9)
        rows = bounds.size - 1
        out = _Nums(np.zeros((width, rows), np.int64), np.zeros(rows, np.int64))
        code = int(self._fold_rows(*self._args((
            rows, np.ascontiguousarray(bounds, np.int64), coef.shape[0],
            np.ascontiguousarray(coef, np.int64), coef.shape[1],
            np.ascontiguousarray(exp, np.int64), prec, out.coef, width, out.exp),
            self._FOLD_ROWS)))
        if code < 0:
            raise _Unsupported(f"the compiled fold refused its input ({code})")
        return out, code == 1


def _load_kernel() -> _Kernel | None:
    """The compiled level walk, or ``None`` (not built here: the arrays do the work)."""
    try:
        from backflush.domain import _levels

        return _Kernel(_levels.__file__) if _levels.__file__ else None
    except (ImportError, OSError, AttributeError):  # not built, or out of date: rebuild with
        return None  # make install


_kernel = _load_kernel()


def compiled_kernel() -> bool:
    """Whether the compiled level walk is here (else the roll-up runs on NumPy arrays)."""
    return _kernel is not None


# --- the roll-up ----------------------------------------------------------------------------


def roll_up_levels(master: MasterData, as_of: date, number: int = 1) -> CostVersion:
    """Roll standard costs up the BOM graph level by level, with the BOMs in effect ``as_of``.

    The result equals :func:`backflush.domain.costing.roll_up_reference`'s for every item,
    element, level, work center and BOM key, rounding included; a BOM cycle (in any version)
    raises the same :class:`BomCycleError` with the same path.
    """
    collecting = gc.isenabled()
    gc.disable()  # no cycles are made; a collection would only walk the master data again
    try:
        compiled = _compile(master.boms)
        plan = _Plan(master, as_of, compiled)
        if _kernel is not None:
            try:
                plan.levels_in_kernel(_kernel)
                return CostVersion(number, as_of, plan.costs())
            except _Unsupported:
                plan = _Plan(master, as_of, compiled)
        levels = len(plan.slot_bounds) - 1
        thin = levels > 64 and plan.l_comp.size < 256 * levels
        if not thin:
            try:
                plan.levels_in_arrays()
            except _Unsupported:
                plan = _Plan(master, as_of, compiled)
                thin = True
        if thin:
            plan.walk_in_decimal()
        return CostVersion(number, as_of, plan.costs())
    finally:
        if collecting:
            gc.enable()


_code = attrgetter("code")
_phantom = attrgetter("phantom")
_made = attrgetter("made")
_conversion_cost = attrgetter("conversion_cost")


def _standard_cost(item: Item) -> Decimal:
    """A purchased item's standard cost, as the reference reads it."""
    cost = item.standard_cost
    if type(cost) is Decimal and cost.is_finite():
        return cost
    return to_decimal(cost if cost is not None else ZERO, f"item {item.code}: standard_cost")


class _Plan:
    """A roll-up: the BOMs in effect, by level, and the per-item state.

    Items are numbered in ``master.items`` order.
    """

    def __init__(self, master: MasterData, as_of: date, c: _Compiled) -> None:
        items = master.items
        self.ctx = ctx = getcontext()  # the reference adds in the ambient context
        self.add = add = ctx.add
        self.exact = exact = EXACT.copy()  # numbers.mul multiplies in a copy of EXACT
        self.mul: Callable[[Decimal, Decimal], Decimal] = \
            exact.multiply if ctx.prec <= exact.prec else _wide_mul(exact)
        mul = self.mul
        if c.height is None:
            check_acyclic(master.boms)  # names the cycle as the reference does
            raise BomCycleError(("?", "?"))  # pragma: no cover - the check above raises

        self.codes = codes = list(items)
        self.item_list = item_list = list(items.values())
        self.n = n = len(codes)
        node_of = np.fromiter(map(c.index.get, codes, repeat(-1)), np.int64, n)  # item -> node
        is_node = np.flatnonzero(node_of >= 0)
        item_of = np.full(len(c.codes), -1, np.int64)  # node -> item
        item_of[node_of[is_node]] = is_node
        # An item's BOM names a component that is not an item: the reference fails so.
        bad = np.flatnonzero((item_of[c.parent] >= 0) & (item_of[c.comp] < 0))
        if bad.size:
            raise KeyError(c.codes[int(c.comp[bad[0]])])
        assert c.height is not None
        self.height = height = np.zeros(n, np.int64)
        height[is_node] = c.height[node_of[is_node]]
        self.phantom = np.fromiter(map(_phantom, item_list), np.bool_, n)
        self.made = np.fromiter(map(_made, item_list), np.bool_, n)
        # Costed from a BOM and a routing: made items, and phantoms (even a purchased one,
        # which the reference explodes through all the same).
        self.active = self.made | self.phantom
        act = np.flatnonzero(self.active)
        self.order = act[np.argsort(height[act], kind="stable")]  # by level

        # The BOM version in effect for each active item that has BOMs, in level order: the
        # first version of a parent that has one (most), else a look at the dates.
        p_of = node_of[self.order]
        has_bom = (p_of >= 0) & (p_of < len(c.parents))
        has_bom[has_bom] = c.n_versions[p_of[has_bom]] > 0
        nodes = self.order[has_bom]
        p_of = p_of[has_bom]
        start = c.first_start[p_of]
        size = c.first_size[p_of]
        chosen = list(map(c.first_version.__getitem__, p_of.tolist()))
        for k in np.flatnonzero(c.n_versions[p_of] > 1).tolist():
            p = int(p_of[k])
            versions = c.versions[p]
            j = 0
            for at, v in enumerate(versions):
                if v.effective_from <= as_of:
                    j = at
            chosen[k] = versions[j]
            start[k] = c.v_start[c.v_first[p] + j]
            size[k] = len(versions[j].lines)
        self.chosen: dict[int, BomVersion] = dict(zip(nodes.tolist(), chosen, strict=True))
        self.bom_items = nodes  # parents with a BOM, by level
        pos = _ranges(start, size)
        self.l_comp = item_of[c.comp[pos]]  # the lines in effect, parent by parent
        self.l_slot = np.repeat(np.arange(nodes.size, dtype=np.int64), size)
        self.g_code = c.pair[pos]
        self.line_bounds = np.concatenate(([0], np.cumsum(size))).astype(np.int64)
        top = int(height.max(initial=0)) + 2
        self.slot_bounds = np.searchsorted(height[self.bom_items], np.arange(top))
        self.act_bounds = np.searchsorted(height[self.order], np.arange(top))
        # BomLine.gross_qty = mul(qty, ONE + scrap), once per distinct (qty, scrap).
        self.gross = [mul(exact.multiply(ONE, q), add(ONE, s)) for q, s in c.pairs]

        # This level: own routing and explicit conversion cost (phantoms come level by level).
        self.own = [[ZERO] * n for _ in range(N_ELEMENTS)]
        costed = _routing_costs(master, ctx, exact)
        o1, o2, o3 = self.own[1], self.own[2], self.own[3]
        self.hours: dict[int, dict[str, Decimal]] = {}
        hours = self.hours
        act_list = act.tolist()
        active_items = list(map(item_list.__getitem__, act_list))
        routed = map(costed.costs.get, map(_code, active_items))
        for i, done, extra in zip(act_list, routed, map(_conversion_cost, active_items),
                                  strict=True):
            if done is None:  # no routing
                hours[i] = {}
                if extra is not None:
                    o3[i] = add(ZERO, extra)
                continue
            o1[i], o2[i], conversion, by_wc = done
            hours[i] = by_wc.copy()
            o3[i] = conversion if extra is None else add(conversion, extra)
        for signal in costed.signals:  # as the reference's own additions would have
            ctx.flags[signal] = True
        # A purchased item: this level is its standard cost (a Decimal already, from Item).
        bought = np.flatnonzero(~self.made).tolist()
        self.std: dict[int, Decimal] = dict(zip(bought, map(_standard_cost, map(
            item_list.__getitem__, bought)), strict=True))
        self.lower: list[list[Decimal]] = [[ZERO] * n for _ in range(N_ELEMENTS)]
        # Or, from the arrays, each element's lower level of the made items, in item order.
        self.made_lower: list[list[Decimal]] | None = None

    def _level(self, lv: int) -> tuple[int, int, int, int]:
        """The level's parents (slots s0:s1 of ``bom_items``) and lines (a:b)."""
        s0, s1 = int(self.slot_bounds[lv]), int(self.slot_bounds[lv + 1])
        return s0, s1, int(self.line_bounds[s0]), int(self.line_bounds[s1])

    def _level_items(self, lv: int) -> list[int]:
        items: list[int] = self.order[int(self.act_bounds[lv]):int(self.act_bounds[lv + 1])]\
            .tolist()
        return items

    def _phantom_own(self, a: int, b: int) -> None:
        """A phantom component's own conversion and hours join the parent's, in BOM order."""
        comp = self.l_comp[a:b]
        ph = np.flatnonzero(self.phantom[comp])
        if not ph.size:
            return
        add, mul = self.add, self.mul
        gross, hours = self.gross, self.hours
        # Own material is always zero, and a zero term changes no sum (of at most the
        # context's digits): both are skipped.
        for p, c, g in zip(self.bom_items[self.l_slot[a + ph]].tolist(), comp[ph].tolist(),
                           self.g_code[a + ph].tolist(), strict=True):
            gq = gross[g]
            for o in self.own[1:]:
                v = o[c]
                if v:
                    o[p] = add(o[p], mul(v, gq))
            hp = hours[p]
            for wc, h in hours[c].items():
                hp[wc] = add(hp.get(wc, ZERO), mul(h, gq))

    def walk_in_decimal(self) -> None:
        """Item by item in level order, in Decimal, as the reference adds and multiplies
        (zero terms skipped): for what the arrays do not handle, and for a deep, thin graph
        (a long chain), where a pass per level costs more than it saves."""
        n, add, mul = self.n, self.add, self.mul
        feed = [[ZERO] * n for _ in range(N_ELEMENTS)]
        bought_at, bought = self._bought()
        for i, v in zip(bought_at.tolist(), bought, strict=True):
            feed[0][i] = v
        gross = self.gross
        comps = self.l_comp.tolist()
        g_codes = self.g_code.tolist()
        bounds = self.line_bounds.tolist()
        slot_of = dict(zip(self.bom_items.tolist(), range(self.bom_items.size), strict=True))
        for i in self.order.tolist():
            slot = slot_of.get(i)
            if slot is not None:
                a, b = bounds[slot], bounds[slot + 1]
                for e in range(N_ELEMENTS):
                    f = feed[e]
                    total = ZERO
                    for k in range(a, b):
                        v = f[comps[k]]
                        if v:
                            total = add(total, mul(v, gross[g_codes[k]]))
                    self.lower[e][i] = total
                self._phantom_own(a, b)
            phantom = self.phantom[i]
            for e in range(N_ELEMENTS):
                low = self.lower[e][i]
                feed[e][i] = low if phantom else add(self.own[e][i], low)

    def _check_context(self, max_prec: int) -> int:
        """The context's precision, if the integer walks reproduce its additions."""
        ctx = self.ctx
        if ctx.rounding != ROUND_HALF_EVEN or ctx.prec > max_prec or ctx.Emax < 999_999 \
                or ctx.Emin > -999_999 or ctx.clamp or any(ctx.traps[s] for s in _SIGNALS):
            raise _Unsupported("decimal context")
        return ctx.prec

    def _gross_columns(self) -> tuple[Ints, Ints]:
        """Each gross quantity's coefficient (at most 9 digits: one limb) and exponent."""
        g_coef = np.zeros(len(self.gross), np.int64)
        g_exp = np.zeros(len(self.gross), np.int64)
        wide = Context(prec=200)
        for k, v in enumerate(self.gross):
            if v:
                _, digits, exponent = wide.normalize(v).as_tuple()
                coef = int("".join(map(str, digits)))
                if coef >= _B9 or not isinstance(exponent, int) or abs(exponent) > 10**5:
                    raise _Unsupported("a gross quantity has more than 9 significant digits")
                g_coef[k], g_exp[k] = coef, exponent
        return g_coef, g_exp

    def _bought(self) -> tuple[Ints, list[Decimal]]:
        """The purchased items that are not phantoms, and their material cost
        (``Cost.total``: standard cost + 0)."""
        at = np.asarray([i for i in self.std if not self.active[i]], np.int64)
        return at, list(map(self.add, map(self.std.__getitem__, at.tolist()), repeat(ZERO)))

    def levels_in_kernel(self, kernel: _Kernel) -> None:
        """The level walk in compiled code (``_levels.c``), item by item: the same numbers
        as the arrays, for a precision up to 28 digits. The costs go in as their text."""
        prec = self._check_context(28)
        n = self.n
        g_coef, g_exp = self._gross_columns()
        # A phantom's own conversion joins its parents' own (in Decimal, as the reference),
        # every line at once: the lines are in level order, and a parent's own is read only
        # at its level, after all of its lines.
        self._phantom_own(0, int(self.line_bounds[-1]))
        bought_at, bought = self._bought()
        items = self.order[~self.phantom[self.order]].tolist()  # own material is zero
        own_at = np.concatenate([e * n + np.asarray(items, np.int64)
                                 for e in range(1, N_ELEMENTS)])
        own = [v for o in self.own[1:] for v in map(o.__getitem__, items)]
        made = np.flatnonzero(self.made)
        k = made.size
        lo, hi, exp = (np.zeros(N_ELEMENTS * k, np.int64) for _ in range(3))
        inexact = kernel.levels(
            n, prec, *_texts(bought, bought_at), *_texts(own, own_at),
            self.phantom.astype(np.uint8), len(self.slot_bounds) - 1, self.slot_bounds,
            self.line_bounds, self.bom_items, self.l_comp, self.g_code, g_coef, g_exp,
            self.order, self.act_bounds, made, k, lo, hi, exp)
        self._keep_lower(_decimals(lo, hi, exp, prec), inexact)

    def levels_in_arrays(self) -> None:
        """The level walk on multi-limb integers (see the module docstring)."""
        prec = self._check_context(36)
        n = self.n
        width = -(-prec // _D9)
        g_coef, g_exp = self._gross_columns()
        # An element's value of an item is at e * n + item in these rows (a value's limbs
        # side by side: the rows are read and written at random, a row a time is cheap).
        # feed: what one unit of an item brings to a parent's lower level: a phantom its
        # lower level, anything else its total (this + lower level) standard cost.
        feed = _Nums(np.zeros((N_ELEMENTS * n, width), np.int64),
                     np.zeros(N_ELEMENTS * n, np.int64))
        feed_nz = np.zeros(N_ELEMENTS * n, np.bool_)
        lower = _Nums(np.zeros((N_ELEMENTS * n, width), np.int64),
                      np.zeros(N_ELEMENTS * n, np.int64))
        element = np.arange(N_ELEMENTS, dtype=np.int64)[:, None] * n
        feed_nd = np.zeros(N_ELEMENTS * n, np.int64)  # digits of the feed coefficients
        g_nd = _digits(g_coef)
        bought_at, bought = self._bought()
        nonzero = np.flatnonzero(np.fromiter(map(bool, bought), np.bool_, len(bought)))
        if nonzero.size:  # material
            idx = bought_at[nonzero]
            nums = _to_nums([bought[k] for k in nonzero.tolist()], prec)
            feed.coef[idx] = nums.coef.T
            feed.exp[idx] = nums.exp
            feed_nz[idx] = True
            feed_nd[idx] = _ndigits(nums.coef, _D9)
        inexact = False
        for lv in range(len(self.slot_bounds) - 1):
            s0, s1, a, b = self._level(lv)
            if s1 > s0:  # lower level: sum of feed x gross quantity over the lines in effect
                m = b - a
                n_slots = s1 - s0
                at = np.flatnonzero(feed_nz[(element + self.l_comp[a:b]).reshape(-1)])
                elem, line = np.divmod(at, m)  # element-major, then in BOM order
                f = elem * n + self.l_comp[a + line]
                g = self.g_code[a + line]
                prod = np.zeros((width + 1, at.size), np.int64)
                prod[:-1] = np.take(feed.coef, f, axis=0).T * g_coef[g]
                _carry(prod, _B9)
                sums, rough = _fold(_Nums(prod, feed.exp[f] + g_exp[g]),
                                    elem * n_slots + self.l_slot[a + line] - s0,
                                    N_ELEMENTS * n_slots, prec, feed_nd[f] + g_nd[g])
                inexact |= rough
                dest = (element + self.bom_items[s0:s1]).reshape(-1)
                lower.coef[dest] = sums.coef.T
                lower.exp[dest] = sums.exp
                self._phantom_own(a, b)
            items = self._level_items(lv)
            if not items:
                continue
            # What the level's items bring: a phantom its lower level, anything else
            # own + lower (own material is always zero).
            n_at = len(items)
            dest = (element + np.asarray(items, np.int64)).reshape(-1)
            low = _Nums(np.take(lower.coef, dest, axis=0).T.copy(), lower.exp[dest])
            ph = np.tile(self.phantom[dest[:n_at]], N_ELEMENTS)
            own_values = [self.own[e][i] for e in range(1, N_ELEMENTS) for i in items]
            own_rows = np.flatnonzero(np.fromiter(map(bool, own_values), np.bool_,
                                                  len(own_values)) & ~ph[n_at:])
            if own_rows.size:
                own = _to_nums([own_values[k] for k in own_rows.tolist()], prec)
                low_rows = np.flatnonzero((low.coef != 0).any(axis=0))
                row = np.concatenate((own_rows + n_at, low_rows))
                by_row = np.argsort(row, kind="stable")  # own before lower in a row
                terms = _Nums(_take(np.concatenate((own.coef, _take(low.coef, low_rows)), axis=1),
                                    by_row),
                              np.concatenate((own.exp, low.exp[low_rows]))[by_row])
                total, rough = _fold(terms, row[by_row], N_ELEMENTS * n_at, prec)
                inexact |= rough
                keep = np.flatnonzero(ph)
                _put(total.coef, keep, _take(low.coef, keep))
                total.exp[ph] = low.exp[ph]
                low = total
            feed.coef[dest] = low.coef.T
            feed.exp[dest] = low.exp
            feed_nz[dest] = (low.coef != 0).any(axis=0)
            feed_nd[dest] = _ndigits(low.coef, _D9)
        dest = (element + np.flatnonzero(self.made)).reshape(-1)
        self._keep_lower(_to_decimals(_Nums(np.take(lower.coef, dest, axis=0).T.copy(),
                                            lower.exp[dest]), prec), inexact)

    def _keep_lower(self, values: list[Decimal], inexact: bool) -> None:
        """The made items' lower levels from an integer walk (element by element, in item
        order), and the signals the reference's additions would have raised."""
        if inexact:
            self.ctx.flags[Inexact] = self.ctx.flags[Rounded] = True
        k = len(values) // N_ELEMENTS
        self.made_lower = [values[e * k:(e + 1) * k] for e in range(N_ELEMENTS)]

    def costs(self) -> dict[str, StandardCost]:
        """The standard costs, components before parents (by level, then in item order).

        Built a field at a time over all the items (``map`` runs the slot setters in C)."""
        n, codes, std, chosen, hours = self.n, self.codes, self.std, self.chosen, self.hours
        new = object.__new__
        item, this_level, lower_level, by_wc, bom = _SC_SLOTS
        out = np.empty(n, object)

        def costs(k: int, *elements: Iterable[Decimal]) -> list[Cost]:
            objs = list(map(new, repeat(Cost, k)))
            for setter, values in zip(_COST_SLOTS, elements, strict=True):
                any(map(setter, objs, values))
            return objs

        def fill(at: list[int], this: list[Cost], low: list[Cost] | Iterable[Cost],
                 wc_hours: Iterable[dict[str, Decimal]], keys: Iterable[str]) -> None:
            scs = list(map(new, repeat(StandardCost, len(at))))
            any(map(item, scs, map(codes.__getitem__, at)))
            any(map(this_level, scs, this))
            any(map(lower_level, scs, low))
            any(map(by_wc, scs, wc_hours))
            any(map(bom, scs, keys))
            out[at] = np.fromiter(scs, object, len(scs))

        made = np.flatnonzero(self.made).tolist()
        if made:
            k = len(made)
            this = costs(k, *[map(o.__getitem__, made) for o in self.own])
            low = costs(k, *(self.made_lower if self.made_lower is not None
                             else [map(w.__getitem__, made) for w in self.lower]))
            keys = [v.key if v is not None else "" for v in map(chosen.get, made)]
            fill(made, this, low, map(hours.__getitem__, made), keys)
        bought = np.flatnonzero(~self.made).tolist()
        if bought:  # purchased: Cost(material=standard_cost), Cost()
            k = len(bought)
            this = costs(k, map(std.__getitem__, bought), repeat(ZERO), repeat(ZERO),
                         repeat(ZERO))
            fill(bought, this, repeat(Cost(), k), map(dict, repeat((), k)), repeat("", k))
        order = np.argsort(self.height, kind="stable")
        return dict(zip(np.asarray(codes, object)[order].tolist(), out[order].tolist(),
                        strict=True))


# Building 100,000 frozen dataclasses through their __init__ (object.__setattr__ field by
# field) is a good part of a large roll-up: the slots are set directly instead (Cost and
# StandardCost have no __post_init__; the objects are the same).
def _slot_setters(cls: type, names: tuple[str, ...]) -> list[Callable[[object, Any], None]]:
    if tuple(f.name for f in fields(cls)) != names or "__post_init__" in cls.__dict__:
        raise TypeError(f"{cls.__name__} changed: update the roll-up's fast constructor")
    return [cls.__dict__[name].__set__ for name in names]


_COST_SLOTS = _slot_setters(Cost, ("material", "labor", "overhead", "conversion"))
_SC_SLOTS = _slot_setters(StandardCost, ("item", "this_level", "lower_level", "hours", "bom"))
