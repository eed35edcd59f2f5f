"""Which account holds an item's value under the policy, at what unit value, and what a
movement does to that account: the one valuation rule of the engine.

Value sits in the account of the latest triggered stage it has passed (posting-rules §2):

==================  ============================  ==========================================
item                trigger points include        held in, at
==================  ============================  ==========================================
purchased           purchase                      materials (RIP) at standard
purchased           no purchase                   off the books
made, finished      completion                    finished goods at full standard
made, intermediate  completion                    materials (RIP) at full standard
made                purchase but not completion   materials (RIP) at its material content
made                neither                       off the books
==================  ============================  ==========================================

"Full standard" includes conversion unless the policy expenses conversion (throughput view).

The GL balance of an inventory account is kept equal to Σ round(qty × unit value) over the
items it holds (qty: the item's total on hand, every location): a movement posts the change
of that rounded product, :func:`value_change`. Rounding never accumulates, and a run of
movements posts exactly what its net movement posts (the sum telescopes), which is what lets a
summary entry carry the value of many events at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from backflush.domain.costs import CostVersion
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import EXACT, ROUNDING, ZERO, add, quantum
from backflush.domain.policy import Policy, Role, Stage

HOLDING_ROLES = frozenset({Role.MATERIALS, Role.RAW_MATERIALS, Role.FINISHED_GOODS,
                           Role.PENDING_BACKFLUSH})


@dataclass(frozen=True, slots=True)
class Books:
    """The master data, policy and cost version posting works with; what follows from them
    for each item is worked out once per item and kept with these books."""

    master: MasterData
    policy: Policy
    costs: CostVersion
    _held: dict[str, tuple[Role, Decimal] | None] = field(default_factory=dict, init=False,
                                                         repr=False, compare=False)
    _content: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def role(self, code: str) -> Role | None:
        held = self.held(code)
        return held[0] if held is not None else None

    def _role(self, code: str) -> Role | None:
        item = self.master.items[code]
        if item.phantom:
            return None
        p = self.policy
        if not item.made:
            return p.materials_role if p.triggered(Stage.PURCHASE) else None
        if p.triggered(Stage.COMPLETION):
            return Role.FINISHED_GOODS if self.master.is_finished(code) else p.materials_role
        if p.triggered(Stage.PURCHASE):
            return p.materials_role
        return None

    def _values(self, code: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(material, conversion at full standard, conversion at the item's stage, value)."""
        try:
            return self._content[code]
        except KeyError:
            std = self.costs[code]
            material = std.material
            conv = std.conversion if self.policy.inventories_conversion else ZERO
            staged = ZERO if self.master.items[code].made \
                and not self.policy.triggered(Stage.COMPLETION) else conv
            found = self._content[code] = (material, conv, staged, add(material, staged))
            return found

    def inventoriable(self, code: str) -> tuple[Decimal, Decimal]:
        """(material, conversion) per unit that the product carries at full standard."""
        material, conv, _, _ = self._values(code)
        return material, conv

    def content(self, code: str) -> tuple[Decimal, Decimal]:
        """(material, conversion) per unit of the value at the item's stage."""
        material, _, staged, _ = self._values(code)
        return material, staged

    def std_value(self, code: str) -> Decimal:
        return self._values(code)[3]

    def held(self, code: str) -> tuple[Role, Decimal] | None:
        """(role, unit value) of an item on the books; None when it is off the books."""
        try:
            return self._held[code]
        except KeyError:
            role = self._role(code)
            found = self._held[code] = (role, self.std_value(code)) if role else None
            return found

    def unit_value(self, code: str) -> Decimal:
        """Value per unit on the books (zero when the policy keeps the item off the books)."""
        held = self.held(code)
        return held[1] if held is not None else ZERO

    def valuation(self, code: str, qty: Decimal) -> Decimal:
        return value_of(self.unit_value(code), self.policy.minor_unit, qty)

    def name(self, role: Role) -> str:
        return self.policy.accounts[role]


def value_of(unit: Decimal, minor_unit: int, qty: Decimal) -> Decimal:
    """round(qty × unit), half-up to the minor unit."""
    return EXACT.multiply(qty, unit).quantize(quantum(minor_unit), ROUND_HALF_UP, ROUNDING)


def change_at(unit: Decimal, minor_unit: int, old_qty: Decimal, new_qty: Decimal) -> Decimal:
    """round(new × unit) − round(old × unit): what a movement posts to the item's account."""
    return value_of(unit, minor_unit, new_qty) - value_of(unit, minor_unit, old_qty)


def value_change(books: Books, code: str, old_qty: Decimal, new_qty: Decimal) -> Decimal:
    held = books.held(code)
    if held is None:
        return ZERO
    return change_at(held[1], books.policy.minor_unit, old_qty, new_qty)
