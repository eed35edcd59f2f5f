"""Held completions: the failed-backflush queue.

Under ``failed_backflush: hold`` a completion the engine cannot post yet is not refused with
its batch: it is kept, unposted (nothing of it reaches the books), with the reason it failed,
until it is retried (``backflush queue --retry``) and posts, in the open period when its own
is closed. So no completion reported by the floor is ever lost. The reasons:

* ``short stock``: a component that rejects going below zero lacks stock;
* ``closed period``: dated in a period closed since (it posts, when retried, dated on the
  first open day);
* ``unknown item or unit``: it names an item or a work center the master data lacks yet.

An issue parked by a posted completion (``negative_stock: queue``) is the queue's other
kind: posted, owed stock (:mod:`backflush.domain.rules.pending`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backflush.domain.errors import (
    NegativeStockError,
    PeriodLockedError,
    PostingError,
    UnknownReferenceError,
)
from backflush.domain.events import Completion, Event

SHORT_STOCK = "short stock"
CLOSED_PERIOD = "closed period"
UNKNOWN = "unknown item or unit"


@dataclass(frozen=True, slots=True)
class Held:
    """A completion kept unposted: why, and since when (the day it was first held)."""

    event: Event
    reason: str
    message: str
    since: date

    @property
    def blocks_close(self) -> bool:
        """Held production blocks the close of its period; one whose period is closed
        already only warns (it will post in the open period)."""
        return self.reason != CLOSED_PERIOD


def hold_reason(event: Event, refusal: PostingError) -> str | None:
    """The reason to hold ``event`` rather than refuse it, or None (refused as ever)."""
    if not isinstance(event, Completion):
        return None
    if isinstance(refusal, PeriodLockedError):
        return CLOSED_PERIOD
    if isinstance(refusal, NegativeStockError):
        return SHORT_STOCK
    if isinstance(refusal, UnknownReferenceError):
        return UNKNOWN
    return None
