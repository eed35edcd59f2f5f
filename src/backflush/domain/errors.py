"""The exception tree. Every error the engine raises on purpose is a :class:`BackflushError`.

::

    BackflushError
    ├── NumberError              a float, a non-number, or a value beyond its field's limits
    ├── ValidationError          bad master data or bad input; carries every Problem found
    │   └── BomCycleError        the BOM graph has a cycle (the path is in the message)
    ├── PostingError             an event was refused; nothing of it was posted
    │   ├── PeriodLockedError    the event is dated in a closed period
    │   ├── NegativeStockError   the backflush would drive stock below zero under ``reject``
    │   └── DuplicateEventError  the same external id was posted before with other content
    ├── LedgerError              the ledger cannot be used as asked (none there, not ours, ...)
    ├── StorageError             the database refused or failed for a reason of its own
    └── ConcurrencyError         another transaction got there first; running again is safe

A :class:`Problem` is validation as data: where (source, line, entry, field) and what. Errors
of the database drivers never leave the adapters: they are translated into the last three.
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
        if self.entry:
            where.append(self.entry)
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"

    def located(self, source: str | None, line: int | None = None) -> Problem:
        """The same problem placed in a file (where it already says is kept)."""
        return Problem(self.entry, self.field, self.message, self.source or source,
                       self.line or line)


class BackflushError(Exception):
    """Base of every error the engine raises on purpose."""


class NumberError(BackflushError, ValueError):
    """A value is not an exact decimal number, or does not fit its field's limits (``field``
    names the field, when the code that raised it knows)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ValidationError(BackflushError, ValueError):
    """Input is invalid; ``problems`` lists everything found (up to a listed maximum)."""

    def __init__(self, problems: Iterable[Problem], more: int = 0) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.more = more  # problems found beyond those listed
        count = len(self.problems) + more
        head = f"{count} problem{'s' if count != 1 else ''} found"
        tail = f"\n  ... and {more} more" if more else ""
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems) + tail)


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
        self.source: str | None = None  # where the event was read, once known
        self.line: int | None = None
        self.entry: str | None = None
        where = f"event {event_id}" + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")

    def locate(self, source: str | None, line: int | None, entry: str | None) -> None:
        """Say where the refused event was read (file, line, entry)."""
        self.source, self.line, self.entry = source, line, entry

    @property
    def problem(self) -> Problem:
        entry = self.entry or f"event {self.event_id}"
        if self.event_id not in entry:
            entry += f" ({self.event_id})"
        return Problem(entry, self.field, self.reason, self.source, self.line)


class PeriodLockedError(PostingError):
    """The event is dated in a period that has been closed."""


class NegativeStockError(PostingError):
    """Backflushing would drive stock below zero and the policy is ``reject``."""


class UnknownReferenceError(PostingError):
    """The event names an item (or a work center) the master data does not hold yet."""


class DuplicateEventError(PostingError):
    """The external id was posted before with different content (``fields``: those that
    differ, when known)."""

    fields: tuple[str, ...] = ()


class LedgerError(BackflushError):
    """The ledger cannot be used as asked: there is none, it is not a backflush ledger, it is
    already set up, or its schema is of another version."""


class StorageError(BackflushError):
    """The database failed or refused for a reason of its own (read-only, full, corrupt,
    unreachable); nothing of the unit of work was kept."""


class ConcurrencyError(BackflushError):
    """Another transaction got there first (serialization failure, deadlock, busy lock).

    Nothing of the unit of work was kept; running it again is safe.
    """
