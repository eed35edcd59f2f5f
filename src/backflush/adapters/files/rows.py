"""The base of every input model: strict, closed, immutable rows whose ``to_domain()``
builds the domain object and turns its refusal into an :class:`~.limits.Issue`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from backflush.adapters.files.limits import Invalid, domain_issue
from backflush.domain.errors import NumberError

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


def mapping(value: Any) -> Any:
    """A mapping as a plain dict (pydantic's strict dict wants exactly that)."""
    return dict(value) if isinstance(value, Mapping) else value
