"""What readers hand to posting: events one by one, located, and plain flows in columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from backflush.domain.events import Event


@dataclass(frozen=True, slots=True)
class Located:
    """An event with where it was read: the file, the line, the entry (``events[3]``)."""

    event: Event
    source: str | None = None
    line: int | None = None
    entry: str | None = None


@dataclass(frozen=True, slots=True)
class Flows:
    """Consecutive plain completions, receipts and sales, as a bulk reader hands them over:
    event ``i`` has id ``ids[i]`` and is otherwise ``templates[index[i]]`` (a template's own
    id is a placeholder), dated ``dates[days[i]]`` when ``days`` is given (else the
    template's date: then a template is needed per date). Each template is a real event, so
    it passed the event's own checks; ids were checked by the same id rule, a column at a
    time. ``lines`` are the rows' lines in ``source``."""

    ids: Sequence[str]
    index: Sequence[int]
    templates: Sequence[Event]
    source: str | None = None
    lines: Sequence[int] | None = None
    first_entry: int = 0  # the position of the first row among the file's events
    days: Sequence[int] | None = None
    dates: Sequence[date] = ()

    def __len__(self) -> int:
        return len(self.ids)

    def part(self, start: int, stop: int) -> Flows:
        """Rows ``start`` to ``stop`` (every column cut alike), still located in their file."""
        if start == 0 and stop == len(self):
            return self
        return replace(self, ids=self.ids[start:stop], index=self.index[start:stop],
                       lines=self.lines[start:stop] if self.lines is not None else None,
                       first_entry=self.first_entry + start,
                       days=self.days[start:stop] if self.days is not None else None)

    def date_of(self, i: int) -> date:
        if self.days is None:
            return self.templates[self.index[i]].date
        return self.dates[self.days[i]]

    def event(self, i: int) -> Event:
        template = self.templates[self.index[i]]
        if self.days is None:
            return replace(template, id=self.ids[i])
        return replace(template, id=self.ids[i], date=self.dates[self.days[i]])

    def located(self, i: int) -> Located:
        return Located(self.event(i), self.source,
                       self.lines[i] if self.lines is not None else None,
                       f"events[{self.first_entry + i}] ({self.ids[i]})")


Item = Event | Located | Flows  # what a stream of events to post may hold


LISTED = 1_000  # duplicates listed by id; beyond, only counted


@dataclass
class BatchResult:
    posted: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)  # the first LISTED, in order
    summarised: int = 0  # of the posted events, those posted in summary entries
    held: list[str] = field(default_factory=list)  # completions held unposted (domain.held)
    days: set[date] = field(default_factory=set)

    def duplicate(self, event_id: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_ids) < LISTED:
            self.duplicate_ids.append(event_id)

    def add(self, other: BatchResult) -> None:
        self.posted += other.posted
        self.summarised += other.summarised
        self.held += other.held
        for event_id in other.duplicate_ids:
            self.duplicate(event_id)
        self.duplicates += other.duplicates - len(other.duplicate_ids)
