"""Which account holds an item's value under the policy, and at what unit value.

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
items it holds: every movement posts the change of that rounded product, so rounding never
accumulates (see :func:`value_change`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from backflush.domain.costing import CostVersion, MasterData
from backflush.domain.numbers import EXACT, ZERO, mul, quantum, round_money
from backflush.domain.policy import Policy, Role, Stage

HOLDING_ROLES = frozenset({Role.MATERIALS, Role.RAW_MATERIALS, Role.FINISHED_GOODS,
                           Role.PENDING_BACKFLUSH})


@dataclass(frozen=True, slots=True)
class Books:
    master: MasterData
    policy: Policy
    costs: CostVersion
    # Roles and unit values by item, worked out once (the books never change).
    _roles: dict[str, Role | None] = field(default_factory=dict, init=False, repr=False,
                                           compare=False)
    _values: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict, init=False,
                                                        repr=False, compare=False)
    _units: dict[str, Decimal] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)
    _std: dict[str, Decimal] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)
    _held: dict[str, tuple[Role, Decimal] | None] = field(default_factory=dict, init=False,
                                                         repr=False, compare=False)
    # What posting works out once at these books and reuses (see posting._completion_plan).
    memo: dict[tuple[object, ...], object] = field(default_factory=dict, init=False,
                                                   repr=False, compare=False)

    def role(self, code: str) -> Role | None:
        if code in self._roles:
            return self._roles[code]
        role = self._roles[code] = self._role(code)
        return role

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

    def inventoriable(self, code: str) -> tuple[Decimal, Decimal]:
        """(material, conversion) per unit that the product carries at full standard."""
        std = self.costs[code]
        conv = std.conversion if self.policy.inventories_conversion else ZERO
        return std.material, conv

    def content(self, code: str) -> tuple[Decimal, Decimal]:
        """(material, conversion) per unit of the value at the item's stage."""
        found = self._values.get(code)
        if found is None:
            found = self._values[code] = self._content(code)
        return found

    def _content(self, code: str) -> tuple[Decimal, Decimal]:
        item = self.master.items[code]
        material, conv = self.inventoriable(code)
        if item.made and not self.policy.triggered(Stage.COMPLETION):
            return material, ZERO
        return material, conv

    def std_value(self, code: str) -> Decimal:
        found = self._std.get(code)
        if found is None:
            material, conv = self.content(code)
            found = self._std[code] = material + conv
        return found

    def unit_value(self, code: str) -> Decimal:
        """Value per unit on the books (zero when the policy keeps the item off the books)."""
        found = self._units.get(code)
        if found is None:
            found = self._units[code] = (self.std_value(code) if self.role(code) is not None
                                         else ZERO)
        return found

    def valuation(self, code: str, qty: Decimal) -> Decimal:
        return round_money(mul(qty, self.unit_value(code)), self.policy.minor_unit)

    def held(self, code: str) -> tuple[Role, Decimal] | None:
        """(role, unit value) of an item on the books; None when it is off the books."""
        if code in self._held:
            return self._held[code]
        role = self.role(code)
        found = self._held[code] = (role, self.unit_value(code)) if role is not None else None
        return found


def value_change(books: Books, code: str, old_qty: Decimal, new_qty: Decimal) -> Decimal:
    """round(new × v) − round(old × v): what a movement posts to the item's account."""
    held = books.held(code)
    if held is None:
        return ZERO
    return change_at(held[1], books.policy.minor_unit, old_qty, new_qty)


def change_at(unit: Decimal, minor_unit: int, old_qty: Decimal, new_qty: Decimal) -> Decimal:
    """round(new × unit) − round(old × unit), half-up to the minor unit (``value_change``
    of an item whose unit value the caller has)."""
    q, multiply = quantum(minor_unit), EXACT.multiply
    return (multiply(new_qty, unit).quantize(q, ROUND_HALF_UP, EXACT)
            - multiply(old_qty, unit).quantize(q, ROUND_HALF_UP, EXACT))
