"""What every rule works with, and the checks they share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.domain.costs import CostVersion
from backflush.domain.errors import PeriodLockedError, PostingError, UnknownReferenceError
from backflush.domain.events import Event, Opening, Reopen
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Policy, Role
from backflush.domain.valuation import Books
from backflush.domain.view import LedgerView


@dataclass(frozen=True, slots=True)
class RuleContext:
    """The books in force and the ledger as it stands before the event. With ``detail``
    False, rules leave out memos' and derivations' texts they would only build to show
    (a summary's event shapes: their amounts are what counts)."""

    books: Books
    view: LedgerView
    detail: bool = True

    @property
    def master(self) -> MasterData:
        return self.books.master

    @property
    def policy(self) -> Policy:
        return self.books.policy

    @property
    def costs(self) -> CostVersion:
        return self.books.costs

    def name(self, role: Role) -> str:
        return self.books.name(role)

    def unit_cost(self, item: str) -> Decimal:
        return self.costs[item].unit_cost


def check_open(ctx: RuleContext, event: Event) -> None:
    """Dated in an open period of this ledger (a reopen checks its own date)."""
    locked = ctx.view.locked_through
    if locked is not None and event.date <= locked and not isinstance(event, Reopen):
        raise PeriodLockedError(event.id, f"{event.date} is in a closed period (closed through "
                                f"{locked}); post the correction in the open period", "date")
    if not isinstance(event, Opening) and event.date < ctx.view.opened_on:
        raise PostingError(event.id, f"{event.date} is before the ledger's first day, "
                           f"{ctx.view.opened_on}", "date")


def check_item(ctx: RuleContext, event: Event, code: str, *, made: bool | None = None,
               stocked: bool = True) -> None:
    item = ctx.master.items.get(code)
    if item is None:
        raise UnknownReferenceError(event.id, f"unknown item '{code}'", "item")
    if stocked and item.phantom:
        raise PostingError(event.id, f"'{code}' is a phantom and is never stocked", "item")
    if made is True and not item.made:
        raise PostingError(event.id, f"'{code}' is a purchased item, not a made one", "item")
    if made is False and item.made:
        raise PostingError(event.id, f"'{code}' is a made item; report a completion instead",
                           "item")
