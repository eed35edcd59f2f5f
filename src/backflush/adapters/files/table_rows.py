"""The rows of the master-data tables a CSV or XLSX import reads (``backflush import boms |
routings | costs``): flat rows of the same strict field types as :mod:`.schemas`; items
and work centers import with the scenario's own row models."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from backflush.adapters.files.issue_rows import FlushField
from backflush.adapters.files.limits import (
    Code,
    Day,
    Factor,
    Free,
    Hours,
    Ident,
    Price,
    Quantity,
    Whole,
)
from backflush.adapters.files.schemas import Row
from backflush.domain.numbers import ZERO


class BomTableRow(FlushField, Row):  # flush: backflush (the default) | manual
    parent: Code
    version: Whole | None = None
    effective: Day | None = None
    component: Code
    qty: Quantity
    scrap: Factor = Field(default_factory=lambda: ZERO)


class RoutingTableRow(Row):
    item: Code
    operation: Whole
    work_center: Code
    run_hours: Hours = Field(default_factory=lambda: ZERO)
    setup_hours: Hours = Field(default_factory=lambda: ZERO)
    lot_size: Quantity = Field(default_factory=lambda: Decimal(1))
    description: Free = ""


class CostRow(Row):
    item: Code
    standard_cost: Price | None = None
    conversion_cost: Price | None = None
    date: Day | None = None
    id: Ident | None = None
