"""Items: what is stocked, bought or made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.domain import text
from backflush.domain.errors import NumberError
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
    # The location a completion backflushes this component from (a line-side supermarket);
    # None: the completion's own location.
    backflush_from: str | None = None
    # Below-zero stock for this item: "allow", "queue" or "reject" (None: the policy's).
    negative_stock: str | None = None

    def __post_init__(self) -> None:
        text.code(self.code, "item code")
        what = f"item {self.code}"
        text.code(self.uom, f"{what}: uom")
        text.free(self.description, f"{what}: description")
        for name in ("standard_cost", "conversion_cost"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, f"{what}: {name}", PRICE))
        if self.backflush_from is not None:
            text.code(self.backflush_from, f"{what}: backflush_from")
        if self.negative_stock not in (None, "allow", "queue", "reject"):
            raise NumberError(f"{what}: negative_stock must be allow, queue or reject",
                              "negative_stock")

    @property
    def purchased(self) -> bool:
        return not self.made
