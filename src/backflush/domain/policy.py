"""The posting policy: trigger points, conversion treatment, variance disposition, accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from backflush.domain import text
from backflush.domain.alerts import AlertThresholds, validate_thresholds
from backflush.domain.errors import NumberError, Problem
from backflush.domain.numbers import MAX_MINOR_UNIT


class Stage(StrEnum):
    """Trigger points, in process order (production start, stage B, is never one)."""

    PURCHASE = "purchase"
    COMPLETION = "completion"
    SALE = "sale"


class ConversionMode(StrEnum):
    INVENTORIED = "inventoried"  # absorption: conversion applied to product at standard
    EXPENSED = "expensed"  # throughput view: conversion is a period cost


class Disposition(StrEnum):
    WRITE_OFF = "write_off"
    PRORATE = "prorate"
    KEEP = "keep"


class NegativeStock(StrEnum):
    ALLOW = "allow"
    QUEUE = "queue"
    REJECT = "reject"


class FailedBackflush(StrEnum):
    """A completion the engine cannot post yet (closed period, short stock where the item
    rejects, an unknown item or work center): refused with its batch, or held in the queue
    until it is retried (domain.held)."""

    REFUSE = "refuse"
    HOLD = "hold"


class Payables(StrEnum):
    """Where the payable for parts received off the books (no purchase trigger) comes from:
    ``consumed``, the textbook: Accounts Payable credited at standard as they are consumed;
    ``received``: Accounts Payable at the invoice on receipt, against GR/IR Clearing at
    standard and the price variance, the clearing relieved at standard as they are consumed."""

    CONSUMED = "consumed"
    RECEIVED = "received"


class Method(StrEnum):
    BACKFLUSH = "backflush"
    SEQUENTIAL = "sequential"


# Variance families and the close disposes of each.
FAMILIES = ("conversion", "purchase_price", "usage", "scrap", "revaluation")
MATERIAL_FAMILIES = ("purchase_price", "usage", "scrap", "revaluation")
# Variances of making things: prorated onto made items and cost of sales, never onto parts.
MADE_ONLY = ("usage", "scrap")


class Role(StrEnum):
    """What an account is for; the policy maps each role to the name shown in reports."""

    MATERIALS = "materials"
    FINISHED_GOODS = "finished_goods"
    CONVERSION_CONTROL = "conversion_control"
    CONVERSION_APPLIED = "conversion_applied"
    COST_OF_GOODS_SOLD = "cost_of_goods_sold"
    ACCOUNTS_PAYABLE = "accounts_payable"
    CONVERSION_SOURCES = "conversion_sources"
    PURCHASE_PRICE_VARIANCE = "purchase_price_variance"
    MATERIAL_USAGE_VARIANCE = "material_usage_variance"
    SCRAP_VARIANCE = "scrap_variance"
    CONVERSION_EFFICIENCY_VARIANCE = "conversion_efficiency_variance"
    REVALUATION_VARIANCE = "revaluation_variance"
    SALES = "sales"
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    RAW_MATERIALS = "raw_materials"
    WORK_IN_PROCESS = "work_in_process"
    CONVERSION_EXPENSE = "conversion_expense"
    PENDING_BACKFLUSH = "pending_backflush"
    MATERIALS_CAPITALIZED_VARIANCES = "materials_capitalized_variances"
    FINISHED_GOODS_CAPITALIZED_VARIANCES = "finished_goods_capitalized_variances"
    MATERIALS_GAAP_ADJUSTMENT = "materials_gaap_adjustment"
    FINISHED_GOODS_GAAP_ADJUSTMENT = "finished_goods_gaap_adjustment"
    NRV_ALLOWANCE = "nrv_allowance"
    ABNORMAL_SCRAP = "abnormal_scrap"
    GR_IR_CLEARING = "gr_ir_clearing"
    ROUNDING = "rounding"
    OPENING_EQUITY = "opening_equity"


DEFAULT_ACCOUNTS: Mapping[Role, str] = {
    Role.MATERIALS: "Raw and In-Process Inventory",
    Role.FINISHED_GOODS: "Finished Goods Inventory",
    Role.CONVERSION_CONTROL: "Conversion Costs Control",
    Role.CONVERSION_APPLIED: "Conversion Costs Applied",
    Role.COST_OF_GOODS_SOLD: "Cost of Goods Sold",
    Role.ACCOUNTS_PAYABLE: "Accounts Payable",
    Role.CONVERSION_SOURCES: "Wages and Other Accounts",
    Role.PURCHASE_PRICE_VARIANCE: "Purchase Price Variance",
    Role.MATERIAL_USAGE_VARIANCE: "Material Usage Variance",
    Role.SCRAP_VARIANCE: "Scrap Variance",
    Role.CONVERSION_EFFICIENCY_VARIANCE: "Conversion Efficiency Variance",
    Role.REVALUATION_VARIANCE: "Revaluation Variance",
    Role.SALES: "Sales Revenue",
    Role.ACCOUNTS_RECEIVABLE: "Accounts Receivable",
    Role.RAW_MATERIALS: "Materials Inventory",
    Role.WORK_IN_PROCESS: "Work in Process",
    Role.CONVERSION_EXPENSE: "Conversion Costs Expensed",
    Role.PENDING_BACKFLUSH: "Pending Backflush Clearing",
    Role.MATERIALS_CAPITALIZED_VARIANCES: "Capitalized Variances - Raw and In-Process",
    Role.FINISHED_GOODS_CAPITALIZED_VARIANCES: "Capitalized Variances - Finished Goods",
    Role.MATERIALS_GAAP_ADJUSTMENT: "GAAP Adjustment - Raw and In-Process",
    Role.FINISHED_GOODS_GAAP_ADJUSTMENT: "GAAP Adjustment - Finished Goods",
    Role.NRV_ALLOWANCE: "Inventory Allowance to Net Realisable Value",
    Role.ABNORMAL_SCRAP: "Abnormal Scrap Loss",
    Role.GR_IR_CLEARING: "GR/IR Clearing",
    Role.ROUNDING: "Rounding Differences",
    Role.OPENING_EQUITY: "Opening Balance Equity",
}

# The accounts of each variance family (conversion: control, applied and efficiency together).
FAMILY_ROLES: Mapping[str, tuple[Role, ...]] = {
    "conversion": (Role.CONVERSION_CONTROL, Role.CONVERSION_APPLIED,
                   Role.CONVERSION_EFFICIENCY_VARIANCE),
    "purchase_price": (Role.PURCHASE_PRICE_VARIANCE,),
    "usage": (Role.MATERIAL_USAGE_VARIANCE,),
    "scrap": (Role.SCRAP_VARIANCE,),
    "revaluation": (Role.REVALUATION_VARIANCE,),
}


# Variances are written off by default, but a revaluation (a standard changed while stock was
# on hand) is prorated: a gain on stock never sold stays beside the stock (capitalized) and
# reaches cost of goods sold only as that stock is sold, never income the day it changed.
DEFAULT_DISPOSITION: Mapping[str, Disposition] = {
    **dict.fromkeys(FAMILIES, Disposition.WRITE_OFF), "revaluation": Disposition.PRORATE}


class Journal(StrEnum):
    """Journal granularity: an entry per event, or summary entries (one per day of a run of
    completions, receipts and sales); ``auto`` summarises a batch of 1,000 events or more."""

    AUTO = "auto"
    PER_EVENT = "per_event"
    SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class Policy:
    triggers: frozenset[Stage] = frozenset({Stage.PURCHASE, Stage.COMPLETION, Stage.SALE})
    conversion: ConversionMode = ConversionMode.INVENTORIED
    disposition: Mapping[str, Disposition] = field(
        default_factory=lambda: dict(DEFAULT_DISPOSITION))
    negative_stock: NegativeStock = NegativeStock.ALLOW
    accounts: Mapping[Role, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    method: Method = Method.BACKFLUSH
    minor_unit: int = 2
    currency: str = "USD"
    # A count difference above this share of what was backflushed points at a wrong BOM line.
    count_tolerance: Decimal = Decimal("0.02")
    # Completions, receipts and sales: an entry each, or summarised per day of a batch.
    journal: Journal = Journal.AUTO
    payables: Payables = Payables.CONSUMED
    # The alert rules' thresholds (domain.alerts): None switches a rule off.
    alerts: AlertThresholds = field(default_factory=AlertThresholds)
    # Below-zero stock by location (a line-side supermarket that queues, say): an item's own
    # rule comes first, then its location's, then ``negative_stock``.
    negative_stock_at: Mapping[str, NegativeStock] = field(default_factory=dict)
    failed_backflush: FailedBackflush = FailedBackflush.REFUSE

    def __post_init__(self) -> None:
        # Sale is always a trigger point; the sequential method triggers at every stage.
        triggers = set(self.triggers) | {Stage.SALE}
        if self.method is Method.SEQUENTIAL:
            triggers = {Stage.PURCHASE, Stage.COMPLETION, Stage.SALE}
        object.__setattr__(self, "triggers", frozenset(triggers))
        accounts = dict(DEFAULT_ACCOUNTS)
        accounts.update(self.accounts)
        object.__setattr__(self, "accounts", accounts)
        disposition = dict(DEFAULT_DISPOSITION)
        disposition.update(self.disposition)
        object.__setattr__(self, "disposition", disposition)

    def triggered(self, stage: Stage) -> bool:
        return stage in self.triggers

    @property
    def inventories_conversion(self) -> bool:
        return self.conversion is ConversionMode.INVENTORIED

    def name(self, role: Role) -> str:
        return self.accounts[role]

    @property
    def clears_receipts(self) -> bool:
        """Are parts received off the books booked at receipt (AP at the invoice)?"""
        return self.payables is Payables.RECEIVED and not self.triggered(Stage.PURCHASE)

    @property
    def unbooked_materials_role(self) -> Role:
        """Credited for materials at standard that reach the books only when consumed."""
        return Role.GR_IR_CLEARING if self.clears_receipts else Role.ACCOUNTS_PAYABLE

    @property
    def materials_role(self) -> Role:
        """Where purchased materials and stocked intermediates sit."""
        return Role.RAW_MATERIALS if self.method is Method.SEQUENTIAL else Role.MATERIALS

    @property
    def variant(self) -> str:
        order = [Stage.PURCHASE, Stage.COMPLETION, Stage.SALE]
        letters = {Stage.PURCHASE: "A", Stage.COMPLETION: "C", Stage.SALE: "D"}
        return "{" + ",".join(letters[s] for s in order if s in self.triggers) + "}"


def validate_policy(policy: Policy) -> list[Problem]:
    problems = []
    if policy.disposition["conversion"] is Disposition.KEEP:
        problems.append(Problem("policy", "disposition",
                                "conversion variances are written off or prorated at close; "
                                "'keep' is for material variances only"))
    if not 0 <= policy.minor_unit <= MAX_MINOR_UNIT:
        problems.append(Problem("policy", "minor_unit", f"must be from 0 to {MAX_MINOR_UNIT}"))
    if not 0 <= policy.count_tolerance <= 1:
        problems.append(Problem("policy", "count_tolerance", "must be from 0 to 1"))
    problems.extend(validate_thresholds(policy.alerts))
    for location in policy.negative_stock_at:
        try:
            text.code(location, "negative_stock_at")
        except NumberError as exc:
            problems.append(Problem("policy", "negative_stock_at", str(exc)))
    return problems
