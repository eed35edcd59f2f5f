"""The event rows: one strict model per event type, the union of them (:data:`EVENTS`) and
the keys they accept. ``to_domain`` builds the domain event, whose own checks run there."""

from __future__ import annotations

import typing
from datetime import timedelta
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BeforeValidator, Field, TypeAdapter

from backflush.adapters.files.issue_rows import issue_row
from backflush.adapters.files.limits import (
    Amount,
    Code,
    Day,
    Flag,
    Free,
    Hours,
    Ident,
    Price,
    Quantity,
    choice,
)
from backflush.adapters.files.rows import Row, mapping
from backflush.domain import events as ev
from backflush.domain.numbers import ZERO


class EventRow(Row):
    """``id`` (the idempotency key; a reader supplies a default where the format allows one)
    and ``date``; ``to_domain`` builds :attr:`DOMAIN` of the fields, which checks itself."""

    DOMAIN: ClassVar[type[ev.Event]]
    id: Ident | None = None
    date: Day

    def to_domain(self, default_id: str) -> ev.Event:
        fields: dict[str, Any] = {d: getattr(self, m) for m, d in _domain_fields(type(self))}
        if "hours" in fields:
            fields["hours"] = tuple(fields["hours"].items())
        if "order" in fields:
            fields["order"] = fields["order"] or ""
        ident = self.id if self.id is not None else default_id

        def build() -> ev.Event:
            return self.DOMAIN(id=ident, date=self.date, **fields)

        return self._domain(build, {"from_location": "from", "to_location": "to"})


@cache
def _domain_fields(model: type[EventRow]) -> tuple[tuple[str, str], ...]:
    """(model field, domain field) of an event model, worked out once."""
    names = {"from_": "from_location", "to": "to_location", "type": "", "id": "", "date": ""}
    return tuple((k, names.get(k, k)) for k in model.model_fields if names.get(k) != "")


class ReceiptRow(EventRow):
    DOMAIN = ev.Receipt
    type: Literal["receipt"]
    item: Code
    qty: Quantity
    unit_price: Price
    supplier: Free = ""
    location: Code = ev.DEFAULT_LOCATION
    due: Day | None = None


class ConversionIncurredRow(EventRow):
    DOMAIN = ev.ConversionIncurred
    type: Literal["conversion_incurred"]
    amount: Amount
    element: Annotated[str, choice(ev.ELEMENTS_INCURRED)] = "conversion"
    credit: Code | None = None


class CompletionRow(EventRow):
    DOMAIN = ev.Completion
    type: Literal["completion"]
    item: Code
    qty: Quantity
    scrap_qty: Quantity = Field(default_factory=lambda: ZERO)
    hours: Annotated[dict[Code, Hours], BeforeValidator(mapping)] = Field(default_factory=dict)
    location: Code = ev.DEFAULT_LOCATION
    output_location: Code | None = None
    order: Ident | None = None


class ScrapRow(EventRow):
    DOMAIN = ev.Scrap
    type: Literal["scrap"]
    item: Code
    qty: Quantity
    reason: Free = ""
    location: Code = ev.DEFAULT_LOCATION
    abnormal: Flag = False


class SaleRow(EventRow):
    DOMAIN = ev.Sale
    type: Literal["sale"]
    item: Code
    qty: Quantity
    unit_price: Price | None = None
    customer: Free = ""
    location: Code = ev.DEFAULT_LOCATION


class TransferRow(EventRow):
    DOMAIN = ev.Transfer
    type: Literal["transfer"]
    item: Code
    qty: Quantity
    from_: Code = Field(alias="from")
    to: Code


class CountRow(EventRow):
    DOMAIN = ev.Count
    type: Literal["count"]
    item: Code
    qty: Quantity
    location: Code = ev.DEFAULT_LOCATION


class ReleaseRow(EventRow):
    DOMAIN = ev.Release
    type: Literal["release"]
    item: Code
    qty: Quantity
    due: Day | None = None


class SignalRow(EventRow):
    DOMAIN = ev.Signal
    type: Literal["signal"]
    item: Code
    location: Code
    qty: Quantity


class ReversalRow(EventRow):
    DOMAIN = ev.Reversal
    type: Literal["reversal"]
    of: Ident
    reason: Free = ""
    qty: Quantity | None = None  # a partial reversal: units of a completion, sale, receipt


class CostChangeRow(EventRow):
    DOMAIN = ev.CostChange
    type: Literal["cost_change"]
    item: Code
    standard_cost: Price | None = None
    conversion_cost: Price | None = None


class RateChangeRow(EventRow):
    DOMAIN = ev.RateChange
    type: Literal["rate_change"]
    work_center: Code
    rate: Price | None = None
    labor_rate: Price | None = None
    overhead_rate: Price | None = None


class CloseRow(EventRow):
    """A period's close: dated its last day (given or not), id ``close-YYYY-MM`` by default."""

    DOMAIN = ev.Close
    type: Literal["close"]
    period: Code
    date: Day | None = None  # type: ignore[assignment]
    force: Flag = False
    gaap_bridge: Flag = False
    nrv: Annotated[dict[Code, Price], BeforeValidator(mapping)] = Field(default_factory=dict)

    def to_domain(self, default_id: str) -> ev.Event:
        def build() -> ev.Event:
            _, end = ev.period_bounds(self.period)
            return ev.Close(id=self.id if self.id is not None else f"close-{self.period}",
                            date=self.date or end, period=self.period, force=self.force,
                            gaap_bridge=self.gaap_bridge, nrv=tuple(self.nrv.items()))
        return self._domain(build)


class ReopenRow(EventRow):
    """A closed period reopened: dated the day after it ends unless given."""

    DOMAIN = ev.Reopen
    type: Literal["reopen"]
    period: Code
    reason: Free
    by: Free = ""
    date: Day | None = None  # type: ignore[assignment]

    def to_domain(self, default_id: str) -> ev.Event:
        def build() -> ev.Event:
            _, end = ev.period_bounds(self.period)
            return ev.Reopen(id=self.id if self.id is not None else f"reopen-{self.period}",
                             date=self.date or end + timedelta(days=1), period=self.period,
                             reason=self.reason, by=self.by)
        return self._domain(build)


EVENT_ROWS: tuple[type[EventRow], ...] = (
    ReceiptRow, ConversionIncurredRow, CompletionRow, ScrapRow, SaleRow, TransferRow,
    CountRow, ReleaseRow, SignalRow, ReversalRow, CostChangeRow, RateChangeRow, CloseRow,
    ReopenRow, IssueRow := issue_row(EventRow))
EVENT_TYPES = tuple(typing.get_args(m.model_fields["type"].annotation)[0] for m in EVENT_ROWS)
AnyEvent = Annotated[Union[EVENT_ROWS], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
EVENTS: TypeAdapter[EventRow] = TypeAdapter(AnyEvent)
EVENT_KEYS = sorted({key for m in EVENT_ROWS for key in m.accepted()})  # every event field
