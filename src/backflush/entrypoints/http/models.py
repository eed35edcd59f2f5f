"""The API's response and request models (besides events, whose models are the files'
own: :mod:`backflush.adapters.files.schemas`). Every decimal is a string (``"1448.39"``):
a JSON number would be read as a binary float by most clients, losing digits past about 16.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backflush.domain.numbers import fmt, fmt_qty

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
Dec = Annotated[str, Field(pattern=DECIMAL_PATTERN, examples=["1448.39"])]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", examples=["2026-11-30"])]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Line(Out):
    account: str
    debit: Dec
    credit: Dec
    memo: str = ""


class Entry(Out):
    seq: int
    date: Day
    event: str
    type: str
    description: str
    lines: list[Line]


class EventOut(Out):
    """An event as posted: its number, the standards it was posted at, and its entries
    (an event posted in a summary names the summary entry instead)."""

    id: str
    type: str
    date: Day
    seq: int
    cost_version: int
    summary_entry: int | None
    content: dict[str, Any]
    entries: list[Entry]


class BatchItem(Out):
    id: str | None
    entry: str
    status: Literal["posted", "replayed", "refused", "held"]
    problem: dict[str, Any] | None = None


class BatchOut(Out):
    """A batch's result: counts, and (``mode=each``) the result of every event."""

    mode: Literal["atomic", "each"]
    posted: int
    replayed: int
    refused: int
    summarised: int
    held: list[str] = Field(default_factory=list, description="Completions held unposted "
                            "(policy failed_backflush: hold): GET /queue says why")
    results: list[BatchItem] | None = None


class HeldOut(Out):
    """A completion that could not post yet, held in the queue (``failed_backflush:
    hold``): nothing of it is on the books until ``POST /queue/retry`` posts it."""

    id: str
    held: Literal[True] = True
    reason: str
    detail: str


class Page(Out):
    next: str | None = Field(description="The cursor of the next page (null: the last).")


class EventPage(Page):
    items: list[EventOut]


class EntryPage(Page):
    items: list[Entry]


class ColumnOut(Out):
    name: str
    kind: Literal["text", "money", "qty", "int", "date"]


class ReportOut(Out):
    """A report as the CLI prints it: typed columns, rows of text (numbers as decimal
    strings; an empty cell is null) and the total row."""

    name: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, str | None]]
    total: dict[str, str | None] | None


class ItemOut(Out):
    code: str
    uom: str
    made: bool
    phantom: bool
    finished: bool
    description: str
    standard_cost: Dec | None
    conversion_cost: Dec | None
    backflush_from: str | None
    negative_stock: str | None


class ItemPage(Page):
    items: list[ItemOut]


class BomLineOut(Out):
    item: str
    qty: Dec
    scrap: Dec
    flush: str = Field(
        "backflush", description="backflush: relieved at the parent's completion; manual: "
        "issued by hand (an issue event), consumed from the parent's in-process stock")


class BomVersionOut(Out):
    parent: str
    version: int
    effective: Day
    lines: list[BomLineOut]


class BomOut(Out):
    item: str
    versions: list[BomVersionOut]


class BomPage(Page):
    items: list[BomOut]


class OperationOut(Out):
    operation: int
    work_center: str
    run_hours: Dec
    setup_hours: Dec
    lot_size: Dec


class RoutingOut(Out):
    item: str
    operations: list[OperationOut]


class WorkCenterOut(Out):
    code: str
    labor_rate: Dec
    overhead_rate: Dec
    rate: Dec


class CostOut(Out):
    item: str
    bom: str
    material: Dec
    labor: Dec
    overhead: Dec
    conversion: Dec
    total: Dec


class CostVersionOut(Out):
    number: int
    effective_from: Day
    in_force: bool
    costs: list[CostOut]


class PeriodOut(Out):
    period: str
    closed_by: str


class PeriodsOut(Out):
    opened_on: Day
    locked_through: Day | None
    closed: list[PeriodOut]


class QueueItem(Out):
    event: str
    item: str
    location: str
    qty: Dec
    since: Day | None
    age_days: int
    reason: str
    blocks_close: bool

    @classmethod
    def of(cls, p: Any) -> QueueItem:
        """A row of the queue (service_layer.queue.PendingIssue)."""
        return cls(event=p.event, item=p.item, location=p.location, qty=fmt_qty(p.qty),
                   since=p.since.isoformat() if p.since else None, age_days=p.age_days,
                   reason=p.reason, blocks_close=p.blocks_close)


class AlertOut(Out):
    """An alert: its number, the event that raised it (and its date), the rule's code and
    message; who acknowledged it, when (ISO date and time, UTC) and why (null: open)."""

    id: int
    date: Day | None
    event: str
    code: str
    message: str
    acknowledged_by: str | None = None
    acknowledged_on: str | None = None
    note: str | None = None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    by: Annotated[str, Field(min_length=1, max_length=500,
                             description="who (default: the token's name)")] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class SuitabilityThresholds(Out):
    min_turnover: Dec
    max_cycle_days: int
    min_completions: int
    max_bom_versions: int
    max_count_difference: Dec
    max_scrap_rate: Dec


class SuitabilityCheck(Out):
    check: str
    label: str
    threshold: Dec
    unit: str
    figure: Dec | None
    examined: int
    examined_what: str
    findings: int


class SuitabilityFinding(Out):
    check: str
    subject: str
    figure: Dec
    threshold: Dec
    unit: str
    value: Dec | None = Field(description="At standard, where the finding has a value: the "
                              "work in process of an open order, a count difference.")
    explanation: str


class SuitabilityOut(Out):
    as_of: Day | None
    thresholds: SuitabilityThresholds
    work_in_process_not_on_books: Dec
    checks: list[SuitabilityCheck]
    findings: list[SuitabilityFinding]


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    force: bool = False
    gaap_bridge: bool = False
    nrv: dict[str, Annotated[str, Field(pattern=DECIMAL_PATTERN)]] = Field(
        default_factory=dict, description="Net realisable value per unit, by item.")


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    by: Annotated[str, Field(min_length=1, max_length=500)]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["viewer", "operator", "accountant", "admin"]
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class TokenOut(Out):
    id: str
    name: str
    role: str
    created: str
    revoked: bool


class TokenMade(TokenOut):
    token: str = Field(description="The secret: shown this once, never again.")


class ImportOut(Out):
    kind: str
    rows: int = Field(description="Rows imported.")
    cost_version: int = Field(description="The cost version in force after the import.")
    posted: int = Field(description="Cost or rate changes posted (standards changed while "
                        "stock was on hand are revalued by events).")


def money(value: Any, minor: int) -> str:
    return fmt(value, minor)


def qty(value: Any) -> str:
    return fmt_qty(value)


class BomFinding(Out):
    """A BOM line's usage per unit estimated from the counts (the ``--json`` document's
    ``bom_accuracy`` rows)."""

    parent: str
    component: str
    bom_version: int
    qty_per: Dec
    estimated_qty_per: Dec | None
    flagged: bool
    location: str
    bom: str
    scrap: Dec
    standard_usage: Dec
    suggested_qty_per: Dec | None
    deviation: Dec | None
    residual_rms: Dec | None
    intervals: int
    intervals_with_units: int
    units: Dec
    finding: str
    cause: str | None
    note: str
