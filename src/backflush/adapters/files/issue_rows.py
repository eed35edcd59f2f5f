"""The input of BOM lines issued by hand: a BOM line's ``flush`` and the ``issue`` event.

``issue`` is ``{type: issue, id, date, item: COMPONENT, qty, for: PARENT, location, order}``
(``for``: the item being made; ``location`` defaults to stores). Its row is made on the
event rows' base class by :func:`issue_row` (:mod:`.schemas` calls it), so that this module
needs nothing of :mod:`.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, Field

from backflush.adapters.files.limits import Code, Ident, Quantity, choice
from backflush.domain import events as ev
from backflush.domain.bom import BACKFLUSH, FLUSHES

Flush = Annotated[str, choice(FLUSHES)]  # a BOM line's flush: backflush (default) | manual
DEFAULT_FLUSH = BACKFLUSH

R = TypeVar("R", bound=BaseModel)


class FlushField(BaseModel):
    """A BOM line's ``flush`` (mixed into the BOM line rows of scenarios and tables)."""

    flush: Flush = DEFAULT_FLUSH


def issue_row(base: type[R]) -> type[R]:
    """The row model of an ``issue`` event, on ``base`` (the event rows' base class)."""

    class IssueRow(base):  # type: ignore[valid-type, misc]
        """A component issued by hand to the item being made (``for``)."""

        DOMAIN: ClassVar[Any] = ev.Issue
        type: Literal["issue"]
        item: Code
        qty: Quantity
        parent: Code = Field(alias="for")
        location: Code = ev.DEFAULT_LOCATION
        order: Ident | None = None

    return IssueRow
