"""The shapes of the input, as strict pydantic models: a scenario, its parts, every event
type and every master-data row. They know nothing of YAML, CSV or HTTP: a reader hands them
plain data and gets a model or the list of what is wrong. The field types (:mod:`.limits`)
accept exactly what is unambiguous; ``null`` means "not given". ``to_domain()`` builds the
domain object, whose own checks run there (nothing here repeats them): a failure comes back
as an :class:`Issue` naming the field. Readers place issues in their files (entry, line).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from backflush.adapters.files.alert_schema import AlertsRow
from backflush.adapters.files.event_rows import (
    EVENT_KEYS as EVENT_KEYS,
)
from backflush.adapters.files.event_rows import (
    EVENT_ROWS as EVENT_ROWS,
)
from backflush.adapters.files.event_rows import (
    EVENT_TYPES as EVENT_TYPES,
)
from backflush.adapters.files.event_rows import (
    EVENTS as EVENTS,
)
from backflush.adapters.files.event_rows import (  # (the event models, re-exported)
    AnyEvent as AnyEvent,
)
from backflush.adapters.files.event_rows import (
    CloseRow as CloseRow,
)
from backflush.adapters.files.event_rows import (
    CompletionRow as CompletionRow,
)
from backflush.adapters.files.event_rows import (
    ConversionIncurredRow as ConversionIncurredRow,
)
from backflush.adapters.files.event_rows import (
    CostChangeRow as CostChangeRow,
)
from backflush.adapters.files.event_rows import (
    CountRow as CountRow,
)
from backflush.adapters.files.event_rows import (
    EventRow as EventRow,
)
from backflush.adapters.files.event_rows import (
    IssueRow as IssueRow,
)
from backflush.adapters.files.event_rows import (
    RateChangeRow as RateChangeRow,
)
from backflush.adapters.files.event_rows import (
    ReceiptRow as ReceiptRow,
)
from backflush.adapters.files.event_rows import (
    ReleaseRow as ReleaseRow,
)
from backflush.adapters.files.event_rows import (
    ReopenRow as ReopenRow,
)
from backflush.adapters.files.event_rows import (
    ReversalRow as ReversalRow,
)
from backflush.adapters.files.event_rows import (
    SaleRow as SaleRow,
)
from backflush.adapters.files.event_rows import (
    ScrapRow as ScrapRow,
)
from backflush.adapters.files.event_rows import (
    SignalRow as SignalRow,
)
from backflush.adapters.files.event_rows import (
    TransferRow as TransferRow,
)
from backflush.adapters.files.issue_rows import FlushField
from backflush.adapters.files.limits import (  # the field types the models are made of
    Amount,
    Code,
    Day,
    Factor,
    Flag,
    Free,
    Hours,
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
from backflush.adapters.files.rows import FIRST_DAY as FIRST_DAY
from backflush.adapters.files.rows import PLACEHOLDER_ID as PLACEHOLDER_ID
from backflush.adapters.files.rows import Row as Row
from backflush.adapters.files.rows import T as T
from backflush.adapters.files.rows import mapping as mapping
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
    FailedBackflush,
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


class BomLineRow(FlushField, Row):  # flush: backflush | manual (issued by hand)
    item: Code
    qty: Quantity
    scrap: Factor = Field(default_factory=lambda: ZERO)  # not deep-copied per row

    def to_domain(self, prefix: tuple[str | int, ...] = ()) -> BomLine:
        return self._domain(lambda: BomLine(self.item, self.qty, self.scrap, self.flush),
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


class PolicyRow(Row):
    trigger_points: list[Annotated[str, choice(s.value for s in Stage)]] = Field(
        default_factory=lambda: [s.value for s in Stage])
    conversion: Annotated[str, choice(m.value for m in ConversionMode)] = "inventoried"
    disposition: Annotated[dict[Annotated[str, choice(FAMILIES, "variance family")],
                                Annotated[str, choice(_DISPOSITIONS)]],
                           BeforeValidator(_disposition)] = Field(default_factory=dict)
    negative_stock: Annotated[str, choice(n.value for n in NegativeStock)] = "allow"
    negative_stock_at: Annotated[dict[Code, Annotated[str, choice(n.value for n in NegativeStock)]],
                                 BeforeValidator(mapping)] = Field(default_factory=dict)
    failed_backflush: Annotated[str, choice(f.value for f in FailedBackflush)] = "refuse"
    accounts: Annotated[dict[Annotated[str, choice(_ROLES, "account role")], Code],
                        BeforeValidator(mapping)] = Field(default_factory=dict)
    journal: Annotated[str, choice(j.value for j in Journal)] = "auto"
    count_tolerance: Annotated[Decimal, decimal_field(LIMITS["count_tolerance"])] | None = None
    payables: Annotated[str, choice(p.value for p in Payables)] = "consumed"
    alerts: AlertsRow = Field(default_factory=AlertsRow)

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
                        payables=Payables(self.payables), alerts=self.alerts.to_domain(),
                        negative_stock_at={loc: NegativeStock(r)
                                           for loc, r in self.negative_stock_at.items()},
                        failed_backflush=FailedBackflush(self.failed_backflush),
                        **extra)
        problems = validate_policy(policy)
        if problems:
            raise Invalid(Issue((p.field,) if p.field else (), p.message) for p in problems)
        return policy


class OpeningStockRow(Row):
    item: Code
    qty: Quantity
    location: Code = ev.DEFAULT_LOCATION


class OpeningRow(Row):
    stock: list[OpeningStockRow] = Field(default_factory=list)
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


# ------------------------------------------------------------------------ documents and tables


validate = validated  # data as a model (or EVENTS); Invalid with every issue pydantic found
