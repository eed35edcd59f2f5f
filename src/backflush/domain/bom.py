"""Bills of materials: versioned, multi-level, a directed acyclic graph.

A BOM line says how much of a component one unit of the parent needs, and the planned loss
(``scrap``, e.g. ``0.02`` for 2 %): backflushing relieves ``qty × (1 + scrap)``.
Exploding through a phantom relieves the phantom's own components instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backflush.domain import text
from backflush.domain.errors import BomCycleError, NumberError
from backflush.domain.items import Item
from backflush.domain.numbers import EXACT, FACTOR, ONE, QUANTITY, ZERO, add, mul, to_decimal

GROSS_PLACES = 12  # a gross quantity has at most 6 + 6 decimal places
BACKFLUSH, MANUAL = "backflush", "manual"  # a line's flush: relieved at completion, or by hand
FLUSHES = (BACKFLUSH, MANUAL)


@dataclass(frozen=True, slots=True)
class BomLine:
    """``qty`` of ``component`` per unit of the parent, ``scrap`` the planned loss; ``flush``
    how it is relieved: ``backflush`` at the parent's completion, or ``manual``, issued by
    hand to the parent (an ``issue`` event), the completion consuming it from the parent's
    in-process stock (:mod:`.inprocess`).

    ``gross_qty`` = qty × (1 + scrap), exact; ``gross_e12`` is the same number × 10**12 as an
    integer, what the roll-up sums with (worked out once, when the line is made).
    """

    component: str
    qty: Decimal
    scrap: Decimal = ZERO
    flush: str = BACKFLUSH
    gross_qty: Decimal = field(init=False, repr=False, compare=False)
    gross_e12: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text.code(self.component, "BOM line component")
        what = f"BOM line {self.component}"
        qty = to_decimal(self.qty, f"{what}: qty", QUANTITY)
        scrap = to_decimal(self.scrap, f"{what}: scrap", FACTOR)
        if qty <= 0:
            raise NumberError(f"{what}: qty must be positive", "qty")
        if scrap < 0 or scrap >= 1:
            raise NumberError(f"{what}: scrap must be in [0, 1)", "scrap")
        if self.flush not in FLUSHES:
            raise NumberError(f"{what}: flush must be backflush or manual, got "
                              f"{text.safe(str(self.flush))}", "flush")
        gross = mul(qty, add(ONE, scrap)) if scrap else qty
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "scrap", scrap)
        object.__setattr__(self, "gross_qty", gross)
        object.__setattr__(self, "gross_e12", int(gross.scaleb(GROSS_PLACES, EXACT)))

    @property
    def manual(self) -> bool:
        return self.flush == MANUAL


@dataclass(frozen=True, slots=True)
class BomVersion:
    parent: str
    version: int
    effective_from: date
    lines: tuple[BomLine, ...]

    def __post_init__(self) -> None:
        text.code(self.parent, "BOM parent")
        if isinstance(self.version, bool) or not isinstance(self.version, int) \
                or not 1 <= self.version < 10**6:
            raise NumberError(f"bom {self.parent}: version must be a whole number from 1")
        object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def key(self) -> str:
        return f"{self.parent}@v{self.version}"


@dataclass(frozen=True, slots=True)
class Boms:
    """Every BOM version of every parent, sorted by effective date."""

    versions: Mapping[str, tuple[BomVersion, ...]]
    # component -> the parents using it in any version (built once: parents_of is hot)
    _parents: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = {p: tuple(sorted(vs, key=lambda v: (v.effective_from, v.version)))
                   for p, vs in self.versions.items()}
        object.__setattr__(self, "versions", ordered)
        parents: dict[str, set[str]] = {}
        for p, vs in self.versions.items():
            for v in vs:
                for line in v.lines:
                    parents.setdefault(line.component, set()).add(p)
        object.__setattr__(self, "_parents", {c: tuple(sorted(ps)) for c, ps in parents.items()})

    @staticmethod
    def of(versions: Iterable[BomVersion]) -> Boms:
        by_parent: dict[str, list[BomVersion]] = {}
        for v in versions:
            by_parent.setdefault(v.parent, []).append(v)
        return Boms({p: tuple(vs) for p, vs in by_parent.items()})

    def all(self) -> list[BomVersion]:
        return [v for vs in self.versions.values() for v in vs]

    def has(self, parent: str) -> bool:
        return parent in self.versions

    def on(self, parent: str, when: date) -> BomVersion | None:
        """The version in effect on ``when`` (the latest whose effective date is not after it).

        Before the first version's date, the first version is used: a plant's first BOM is
        the one it has always had.
        """
        versions = self.versions.get(parent)
        if not versions:
            return None
        chosen = versions[0]
        for v in versions:
            if v.effective_from <= when:
                chosen = v
            else:
                break
        return chosen

    def parents_of(self, component: str) -> tuple[str, ...]:
        return self._parents.get(component, ())


def find_cycle(edges: Mapping[str, Iterable[str]]) -> tuple[str, ...] | None:
    """Return one cycle as a path (first node repeated at the end), or ``None``."""
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = {}
    for root in sorted(edges):
        if colour.get(root, white) != white:
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(set(edges.get(root, ())),
                                                            reverse=True))]
        path = [root]
        colour[root] = grey
        while stack:
            node, children = stack[-1]
            if children:
                child = children.pop()
                state = colour.get(child, white)
                if state == grey:
                    start = path.index(child)
                    return (*path[start:], child)
                if state == white:
                    colour[child] = grey
                    path.append(child)
                    stack.append((child, sorted(set(edges.get(child, ())), reverse=True)))
            else:
                colour[node] = black
                path.pop()
                stack.pop()
    return None


def check_acyclic(boms: Boms) -> None:
    edges = {p: [line.component for v in vs for line in v.lines] for p, vs in boms.versions.items()}
    cycle = find_cycle(edges)
    if cycle is not None:
        raise BomCycleError(cycle)


@dataclass(frozen=True, slots=True)
class Requirement:
    """A component quantity derived by exploding one level (through phantoms)."""

    component: str
    qty: Decimal
    via: tuple[str, ...]  # the phantoms exploded through, outermost first
    bom: str  # the BOM version key of the line that produced it
    per: Decimal  # the quantity per unit of the exploded item, scrap included
    manual: bool = False  # issued by hand (its line, or a phantom's line above it, is manual)


@dataclass(frozen=True, slots=True)
class Explosion:
    parent: str
    bom: str
    requirements: tuple[Requirement, ...]
    # Each phantom met on the way, with the key of its BOM version in effect ("" for none):
    # with the parent's own version, what makes another date's explosion the same.
    versions: tuple[tuple[str, str], ...] = ()

    def totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for r in self.requirements:
            out[r.component] = add(out.get(r.component, ZERO), r.qty)
        return out


def explode(parent: str, qty: Decimal, when: date, boms: Boms,
            items: Mapping[str, Item]) -> Explosion:
    """Component requirements for ``qty`` of ``parent`` one level down, through phantoms."""
    top = boms.on(parent, when)
    if top is None:
        return Explosion(parent, "", ())
    reqs: list[Requirement] = []
    versions: list[tuple[str, str]] = []

    def walk(version: BomVersion, per_unit: Decimal, via: tuple[str, ...], manual: bool
             ) -> None:
        for line in version.lines:
            per = mul(per_unit, line.gross_qty)
            comp = items[line.component]
            sub = boms.on(comp.code, when) if comp.phantom else None
            if comp.phantom:
                versions.append((comp.code, sub.key if sub is not None else ""))
            by_hand = manual or line.manual  # a phantom issued by hand: all of its parts
            if comp.phantom and sub is not None:
                walk(sub, per, (*via, comp.code), by_hand)
            else:
                reqs.append(Requirement(comp.code, mul(per, qty), via, version.key, per,
                                        by_hand))

    walk(top, ONE, (), False)
    return Explosion(parent, top.key, tuple(reqs), tuple(versions))


def signature(parent: str, when: date, boms: Boms, items: Mapping[str, Item]
              ) -> tuple[str, ...]:
    """The BOM versions an explosion of ``parent`` on ``when`` uses (phantoms included), a
    version with lines issued by hand marked so (``STOOL@v2+manual``): two dates with the
    same signature explode alike."""
    keys: list[str] = []

    def walk(code: str) -> None:
        version = boms.on(code, when)
        if version is None:
            return
        manual = any(line.manual for line in version.lines)
        keys.append(f"{version.key}+{MANUAL}" if manual else version.key)
        for line in version.lines:
            comp = items.get(line.component)
            if comp is not None and comp.phantom:
                walk(line.component)

    walk(parent)
    return tuple(keys)


def lines_feeding(parent: str, component: str, when: date, boms: Boms,
                  items: Mapping[str, Item]) -> list[tuple[BomVersion, BomLine]]:
    """The BOM lines through which ``parent`` consumes ``component`` (phantoms included)."""
    found: list[tuple[BomVersion, BomLine]] = []

    def walk(code: str) -> None:
        version = boms.on(code, when)
        if version is None:
            return
        for line in version.lines:
            if line.component == component:
                found.append((version, line))
            elif items[line.component].phantom:
                walk(line.component)

    walk(parent)
    return found
