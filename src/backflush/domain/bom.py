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

from backflush.domain.errors import BomCycleError, NumberError
from backflush.domain.items import Item
from backflush.domain.numbers import ONE, ZERO, mul, to_decimal


@dataclass(frozen=True, slots=True)
class BomLine:
    component: str
    qty: Decimal
    scrap: Decimal = ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "qty", to_decimal(self.qty, f"BOM line {self.component}: qty"))
        object.__setattr__(
            self, "scrap", to_decimal(self.scrap, f"BOM line {self.component}: scrap")
        )
        if self.qty <= 0:
            raise NumberError(f"BOM line {self.component}: qty must be positive")
        if self.scrap < 0 or self.scrap >= 1:
            raise NumberError(f"BOM line {self.component}: scrap must be in [0, 1)")

    @property
    def gross_qty(self) -> Decimal:
        """Quantity per parent including the planned scrap."""
        return mul(self.qty, ONE + self.scrap)


@dataclass(frozen=True, slots=True)
class BomVersion:
    parent: str
    version: int
    effective_from: date
    lines: tuple[BomLine, ...]

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
        return Boms(
            {p: tuple(sorted(vs, key=lambda v: (v.effective_from, v.version)))
             for p, vs in by_parent.items()}
        )

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
        return chosen

    def parents_of(self, component: str) -> tuple[str, ...]:
        return self._parents.get(component, ())


def find_cycle(edges: Mapping[str, Iterable[str]]) -> tuple[str, ...] | None:
    """Return one cycle as a path (first node repeated at the end), or ``None``."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[str, int] = {}
    for root in sorted(edges):
        if colour.get(root, WHITE) != WHITE:
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(set(edges.get(root, ()))))]
        path = [root]
        colour[root] = GREY
        while stack:
            node, children = stack[-1]
            if children:
                child = children.pop(0)
                state = colour.get(child, WHITE)
                if state == GREY:
                    start = path.index(child)
                    return (*path[start:], child)
                if state == WHITE:
                    colour[child] = GREY
                    path.append(child)
                    stack.append((child, sorted(set(edges.get(child, ())))))
            else:
                colour[node] = BLACK
                path.pop()
                stack.pop()
    return None


def check_acyclic(boms: Boms) -> None:
    edges = {p: [line.component for v in vs for line in v.lines] for p, vs in boms.versions.items()}
    cycle = find_cycle(edges)
    if cycle is not None:
        raise BomCycleError(cycle)


def topological_order(items: Iterable[str], boms: Boms) -> list[str]:
    """Components before parents (every version's components count)."""
    children = {p: {line.component for v in vs for line in v.lines}
                for p, vs in boms.versions.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in sorted(items):
        if root in done:
            continue
        stack = [(root, iter(sorted(children.get(root, ()))))]
        while stack:
            node, it = stack[-1]
            nxt = next((c for c in it if c not in done), None)
            if nxt is None:
                stack.pop()
                if node not in done:
                    done.add(node)
                    order.append(node)
            else:
                stack.append((nxt, iter(sorted(children.get(nxt, ())))))
    return order


@dataclass(frozen=True, slots=True)
class Requirement:
    """A component quantity derived by exploding one level (through phantoms)."""

    component: str
    qty: Decimal
    via: tuple[str, ...]  # the phantoms exploded through, outermost first
    bom: str  # the BOM version key of the line that produced it


@dataclass(frozen=True, slots=True)
class Explosion:
    parent: str
    bom: str
    requirements: tuple[Requirement, ...]
    phantoms: Mapping[str, Decimal]  # phantom code -> quantity of it exploded through
    # Each phantom met on the way, with the key of its BOM version in effect ("" for none):
    # with the parent's own version, what makes another date's explosion the same.
    versions: tuple[tuple[str, str], ...] = ()

    def totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for r in self.requirements:
            out[r.component] = out.get(r.component, ZERO) + r.qty
        return out


def explode(parent: str, qty: Decimal, when: date, boms: Boms,
            items: Mapping[str, Item]) -> Explosion:
    """Component requirements for ``qty`` of ``parent`` one level down, through phantoms."""
    top = boms.on(parent, when)
    if top is None:
        return Explosion(parent, "", (), {})
    reqs: list[Requirement] = []
    phantoms: dict[str, Decimal] = {}
    versions: list[tuple[str, str]] = []

    def walk(version: BomVersion, multiplier: Decimal, via: tuple[str, ...]) -> None:
        key = version.key
        for line in version.lines:
            need = mul(multiplier, line.gross_qty)
            comp = items[line.component]
            sub = boms.on(comp.code, when) if comp.phantom else None
            if comp.phantom:
                versions.append((comp.code, sub.key if sub is not None else ""))
            if comp.phantom and sub is not None:
                phantoms[comp.code] = phantoms.get(comp.code, ZERO) + need
                walk(sub, need, (*via, comp.code))
            else:
                reqs.append(Requirement(comp.code, need, via, key))

    walk(top, qty, ())
    return Explosion(parent, top.key, tuple(reqs), phantoms, tuple(versions))


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
