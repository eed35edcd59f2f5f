"""A whole scenario document as one model (an HTTP body); the scenario reader checks one
part by part, with the same models (:mod:`.schemas`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from backflush.adapters.files.kanban_rows import KanbanRow
from backflush.adapters.files.limits import Code, Format, Free, Whole
from backflush.adapters.files.schemas import (
    AnyEvent,
    Bom,
    ItemRow,
    OpeningRow,
    OperationRow,
    PolicyRow,
    Row,
    WorkCenterRow,
    mapping,
)


class DocumentHead(Row):
    format: Format
    name: Free = ""
    description: Free = ""
    currency: Code = "USD"
    minor_unit: Whole | None = None


class ScenarioDocument(DocumentHead):
    """A whole scenario (an HTTP body); the reader checks one part by part, same models."""

    policy: PolicyRow = Field(default_factory=PolicyRow)
    items: list[ItemRow]
    boms: Annotated[dict[Code, Bom], BeforeValidator(mapping)] = Field(default_factory=dict)
    work_centers: list[WorkCenterRow] = Field(default_factory=list)
    routings: Annotated[dict[Code, list[OperationRow]], BeforeValidator(mapping)] = \
        Field(default_factory=dict)
    kanban: list[KanbanRow] = Field(default_factory=list)
    opening: OpeningRow | None = None
    events: list[AnyEvent] = Field(default_factory=list)
