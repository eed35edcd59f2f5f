"""The exception tree. Every error the engine raises on purpose is a :class:`BackflushError`.

::

    BackflushError
    ├── NumberError              a float, a non-number or a non-finite value where a Decimal is due
    ├── ValidationError          bad master data or bad input; carries every Problem found at once
    │   └── BomCycleError        the BOM graph has a cycle (the path is in the message)
    └── PostingError             an event was refused; nothing of it was posted
        ├── PeriodLockedError    the event is dated in a closed period
        ├── NegativeStockError   the backflush would drive stock below zero under ``reject``
        └── DuplicateEventError  the same external id was posted before with other content

A :class:`Problem` is validation as data: where (source, entry, field, line) and what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    entry: str
    field: str | None
    message: str
    source: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source + (f":{self.line}" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        where.append(self.entry)
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class BackflushError(Exception):
    """Base of every error the engine raises on purpose."""


class NumberError(BackflushError, ValueError):
    """A value is not an exact decimal number."""


class ValidationError(BackflushError, ValueError):
    """Input is invalid; ``problems`` lists everything found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class BomCycleError(ValidationError):
    """The BOM graph has a cycle; ``path`` is the cycle, first item repeated at the end."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        super().__init__(
            [Problem(f"bom {path[0]}", "components", "BOM cycle: " + " -> ".join(path))]
        )


class PostingError(BackflushError):
    """An event was refused; nothing of it was posted."""

    def __init__(self, event_id: str, message: str, field: str | None = None) -> None:
        self.event_id = event_id
        self.field = field
        self.reason = message
        where = f"event {event_id}" + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


class PeriodLockedError(PostingError):
    """The event is dated in a period that has been closed."""


class NegativeStockError(PostingError):
    """Backflushing would drive stock below zero and the policy is ``reject``."""


class DuplicateEventError(PostingError):
    """The external id was posted before with different content."""
