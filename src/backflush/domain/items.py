"""Items: what is stocked, bought or made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.domain import text
from backflush.domain.numbers import PRICE, to_decimal


@dataclass(frozen=True, slots=True)
class Item:
    """A stocked, bought or made thing.

    * ``standard_cost``: the standard purchase cost of a purchased item. A made item has none;
      its standard cost is rolled up from its BOM and routing.
    * ``conversion_cost``: an explicit standard conversion cost per unit for a made item, as an
      alternative to a routing over work centers.
    * ``phantom``: never stocked; exploding through it relieves its components directly.
    * ``finished``: a finished good (goes to FG when completion is a trigger point). ``None``
      means "decide from the BOMs": a made item that is no other item's component is finished.
    """

    code: str
    uom: str = "ea"
    standard_cost: Decimal | None = None
    conversion_cost: Decimal | None = None
    phantom: bool = False
    finished: bool | None = None
    made: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        text.code(self.code, "item code")
        what = f"item {self.code}"
        text.code(self.uom, f"{what}: uom")
        text.free(self.description, f"{what}: description")
        for name in ("standard_cost", "conversion_cost"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, f"{what}: {name}", PRICE))

    @property
    def purchased(self) -> bool:
        return not self.made
