"""The shapes of the input, as strict pydantic models: a scenario, its parts, every event
type and every master-data row. They know nothing of YAML, CSV or HTTP: a reader hands them
plain data and gets a model or the list of what is wrong. The field types (:mod:`.limits`)
accept exactly what is unambiguous; ``null`` means "not given". ``to_domain()`` builds the
domain object, whose own checks run there (nothing here repeats them): a failure comes back
as an :class:`Issue` naming the field. Readers place issues in their files (entry, line).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cache, partial
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from backflush.adapters.files.limits import (  # the field types the models are made of
    Amount,
    Code,
    Day,
    Factor,
    Flag,
    Free,
    Hours,
    Ident,
    Invalid,
    Issue,
    Price,
    Quantity,
    Whole,
    choice,
    decimal_field,
    domain_issue,
    fail,
    validated,
)
from backflush.domain import events as ev
from backflush.domain import text
from backflush.domain.bom import BomLine, BomVersion
from backflush.domain.errors import NumberError
from backflush.domain.items import Item
from backflush.domain.numbers import LIMITS, ZERO
from backflush.domain.policy import (
    DEFAULT_ACCOUNTS,
    FAMILIES,
    ConversionMode,
    Disposition,
    Journal,
    Method,
    NegativeStock,
    Payables,
    Policy,
    Role,
    Stage,
    validate_policy,
)
from backflush.domain.routing import Operation, WorkCenter, predetermined_rate

T = TypeVar("T")  # what a to_domain() builds
FIRST_DAY = date(1900, 1, 1)  # the effective date of a BOM given without versions
PLACEHOLDER_ID = "template"  # the id of a bulk reader's template event (replaced per row)


class Row(BaseModel):
    """Strict, closed, immutable; ``null`` values are taken as not given."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _given(cls, data: Any) -> Any:  # None: not given
        if isinstance(data, Mapping) and None in data.values():
            return {k: v for k, v in data.items() if v is not None}
        return data

    @classmethod
    def accepted(cls) -> list[str]:
        """The keys (columns) the model accepts, as written in a file."""
        return sorted(f.alias or name for name, f in cls.model_fields.items())

    def _domain(self, build: Callable[[], T], rename: Mapping[str, str] = {},
                prefix: tuple[str | int, ...] = ()) -> T:
        try:
            return build()
        except NumberError as exc:
            raise Invalid([domain_issue(exc, self.accepted(), rename, prefix)]) from None


class ItemRow(Row):
    code: Code
    uom: Code = "ea"
    type: Annotated[str, choice(("purchased", "made"))] | None = None
    standard_cost: Price | None = None
    conversion_cost: Price | None = None
    phantom: Flag = False
    finished: Flag | None = None
    description: Free = ""
    backflush_from: Code | None = None
    negative_stock: Annotated[str, choice(n.value for n in NegativeStock)] | None = None

    def to_domain(self, *, has_bom: bool = False, has_routing: bool = False) -> Item:
        """Made as ``type`` says, else if it has a BOM, routing, conversion cost or is a phantom."""
        made = self.type == "made" if self.type is not None else (
            self.phantom or self.conversion_cost is not None or has_bom or has_routing)
        return self._domain(lambda: Item(
            self.code, self.uom, self.standard_cost, self.conversion_cost, self.phantom,
            self.finished, made, self.description, self.backflush_from, self.negative_stock),
            {"item code": "code"})


class BomLineRow(Row):
    item: Code
    qty: Quantity
    scrap: Factor = Field(default_factory=lambda: ZERO)  # not deep-copied per row

    def to_domain(self, prefix: tuple[str | int, ...] = ()) -> BomLine:
        return self._domain(lambda: BomLine(self.item, self.qty, self.scrap),
                            {"component": "item"}, prefix)


class BomVersionRow(Row):
    version: Whole | None = None
    effective: Day = FIRST_DAY
    lines: list[BomLineRow]


def bom_spec(value: Any) -> Any:
    """A plain list of lines is version 1, in effect since :data:`FIRST_DAY`."""
    return {"versions": [{"version": 1, "lines": value}]} if isinstance(value, list) else value


class BomRow(Row):
    versions: list[BomVersionRow]

    def to_domain(self, parent: str) -> list[BomVersion]:
        """Every version; Invalid with an issue per bad line (version ``j + 1`` unless
        numbered)."""
        out, issues = [], []
        if not self.versions:
            issues.append(Issue(("versions",), "expected a list of versions"))
        for j, v in enumerate(self.versions):
            lines = []
            for k, line in enumerate(v.lines):
                try:
                    lines.append(line.to_domain(("versions", j, "lines", k)))
                except Invalid as exc:
                    issues.extend(exc.issues)
            try:
                out.append(BomVersion(parent, v.version or j + 1, v.effective, tuple(lines)))
            except NumberError as exc:
                issues.append(domain_issue(exc, ["version"], prefix=("versions", j)))
        if issues:
            raise Invalid(issues)
        return out


Bom = Annotated[BomRow, BeforeValidator(bom_spec)]


class BudgetRow(Row):
    labor: Amount | None = None
    overhead: Amount | None = None
    conversion: Amount | None = None
    hours: Quantity


class WorkCenterRow(Row):
    code: Code
    rate: Price | None = None
    labor_rate: Price | None = None
    overhead_rate: Price | None = None
    budget: BudgetRow | None = None
    description: Free = ""

    def to_domain(self) -> WorkCenter:
        """Rates as given, or predetermined from a budget (budgeted cost ÷ budgeted hours)."""
        rates = {"rate": self.rate, "labor_rate": self.labor_rate,
                 "overhead_rate": self.overhead_rate}
        issues = []
        if self.budget is not None:
            for key, rate_key in (("labor", "labor_rate"), ("overhead", "overhead_rate"),
                                  ("conversion", "rate")):
                cost = getattr(self.budget, key)
                if cost is None:
                    continue
                if rates[rate_key] is not None:
                    issues.append(Issue((rate_key,), "given both as a rate and as a budget"))
                try:
                    rates[rate_key] = predetermined_rate(cost, self.budget.hours)
                except NumberError as exc:
                    issues.append(Issue(("budget", "hours"), str(exc)))
        if all(v is None for v in rates.values()):
            issues.append(Issue(("rate",), "give rate, or labor_rate and overhead_rate, "
                                "or a budget"))
        if issues:
            raise Invalid(issues)
        budget = None if self.budget is None else (
            self.budget.labor or ZERO, self.budget.overhead or ZERO,
            self.budget.conversion or ZERO)
        return self._domain(lambda: WorkCenter(
            self.code, rates["labor_rate"] or ZERO, rates["overhead_rate"] or ZERO,
            rates["rate"] or ZERO, budget, self.budget.hours if self.budget else ZERO),
            {"conversion_rate": "rate", "work center code": "code"})


class OperationRow(Row):
    operation: Whole | None = None
    work_center: Code
    run_hours: Hours = Field(default_factory=lambda: ZERO)
    setup_hours: Hours = Field(default_factory=lambda: ZERO)
    lot_size: Quantity = Field(default_factory=lambda: Decimal(1))
    description: Free = ""

    def to_domain(self, number: int) -> Operation:
        """The step, numbered ``operation`` (``number`` when the row gives none)."""
        try:
            return Operation(self.operation if self.operation is not None else number,
                             self.work_center, self.run_hours, self.setup_hours, self.lot_size)
        except NumberError as exc:
            issue = domain_issue(exc, self.accepted())
            if issue.field is None and "hours" in issue.message:
                field = "run_hours" if self.run_hours < 0 else "setup_hours"
                issue = Issue((field,), issue.message.replace("hours ", "", 1))
            raise Invalid([issue]) from None


_ROLES = tuple(r.value for r in DEFAULT_ACCOUNTS)
_DISPOSITIONS = tuple(d.value for d in Disposition)


def _disposition(value: Any) -> Any:
    """One disposition for every family, or a mapping family: disposition."""
    if isinstance(value, str):
        if value not in _DISPOSITIONS:
            raise fail(f"{text.safe(value)} is not one of {', '.join(_DISPOSITIONS)}")
        return dict.fromkeys(FAMILIES, value)
    return dict(value) if isinstance(value, Mapping) else value


def mapping(value: Any) -> Any:
    """A mapping as a plain dict (pydantic's strict dict wants exactly that)."""
    return dict(value) if isinstance(value, Mapping) else value


class PolicyRow(Row):
    trigger_points: list[Annotated[str, choice(s.value for s in Stage)]] = \
        [s.value for s in Stage]
    conversion: Annotated[str, choice(m.value for m in ConversionMode)] = "inventoried"
    disposition: Annotated[dict[Annotated[str, choice(FAMILIES, "variance family")],
                                Annotated[str, choice(_DISPOSITIONS)]],
                           BeforeValidator(_disposition)] = Field(default_factory=dict)
    negative_stock: Annotated[str, choice(n.value for n in NegativeStock)] = "allow"
    accounts: Annotated[dict[Annotated[str, choice(_ROLES, "account role")], Code],
                        BeforeValidator(mapping)] = Field(default_factory=dict)
    journal: Annotated[str, choice(j.value for j in Journal)] = "auto"
    count_tolerance: Annotated[Decimal, decimal_field(LIMITS["count_tolerance"])] | None = None
    payables: Annotated[str, choice(p.value for p in Payables)] = "consumed"

    def to_domain(self, currency: str = "USD", minor_unit: int = 2,
                  method: Method = Method.BACKFLUSH) -> Policy:
        """The policy, checked by the domain's own policy checks."""
        extra = {} if self.count_tolerance is None else {"count_tolerance": self.count_tolerance}
        policy = Policy(frozenset(Stage(s) for s in self.trigger_points),
                        ConversionMode(self.conversion),
                        {f: Disposition(d) for f, d in self.disposition.items()},
                        NegativeStock(self.negative_stock),
                        {Role(r): name for r, name in self.accounts.items()}, method,
                        minor_unit, currency, journal=Journal(self.journal),
                        payables=Payables(self.payables), **extra)
        problems = validate_policy(policy)
        if problems:
            raise Invalid(Issue((p.field,) if p.field else (), p.message) for p in problems)
        return policy


class OpeningStockRow(Row):
    item: Code
    qty: Quantity
    location: Code = ev.DEFAULT_LOCATION


class OpeningRow(Row):
    stock: list[OpeningStockRow] = []
    balances: Annotated[dict[Code, Amount], BeforeValidator(mapping)] = Field(default_factory=dict)

    def to_domain(self, when: date) -> ev.Opening:
        """Balances brought forward, dated ``when`` (the day before the ledger's first)."""
        stock, issues = [], []
        for i, row in enumerate(self.stock):
            try:
                stock.append(row._domain(partial(ev.OpeningStock, row.item, row.qty,
                                                 row.location), prefix=("stock", i)))
            except Invalid as exc:
                issues.extend(exc.issues)
        if issues:
            raise Invalid(issues)
        return self._domain(lambda: ev.Opening(id="opening", date=when, stock=tuple(stock),
                                               balances=dict(self.balances)))


# ------------------------------------------------------------------------ events


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


class ReversalRow(EventRow):
    DOMAIN = ev.Reversal
    type: Literal["reversal"]
    of: Ident
    reason: Free = ""


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
    CountRow, ReleaseRow, ReversalRow, CostChangeRow, RateChangeRow, CloseRow, ReopenRow)
EVENT_TYPES = tuple(typing.get_args(m.model_fields["type"].annotation)[0] for m in EVENT_ROWS)
AnyEvent = Annotated[Union[EVENT_ROWS], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
EVENTS: TypeAdapter[EventRow] = TypeAdapter(AnyEvent)
EVENT_KEYS = sorted({key for m in EVENT_ROWS for key in m.accepted()})  # every event field


# ------------------------------------------------------------------------ documents and tables


validate = validated  # data as a model (or EVENTS); Invalid with every issue pydantic found
