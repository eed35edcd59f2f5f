"""What a reversal leaves in the event log: the quantity it took back of its original (a
completion, sale or receipt; :mod:`backflush.domain.rules.portion`), and, once nothing of
the original is left, the mark that it is reversed in full."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from backflush.domain.events import Event, Reversal
from backflush.domain.numbers import ONE, ROUNDING, ZERO
from backflush.domain.rules.portion import reversible_qty
from backflush.service_layer.unit_of_work import UnitOfWork


def record_reversal(uow: UnitOfWork, event: Reversal) -> None:
    """Record a reversal just posted (its rule checked it: the original exists, and the
    quantity is within what is left of it)."""
    events = uow.events
    stored = events.get(event.of)
    whole = reversible_qty(stored.event) if stored is not None else None
    if whole is None:
        events.mark_reversed(event.of, event.id)
        return
    done = sum((q for _, q in events.reversals_of(event.of)), ZERO)
    taken: Decimal = whole - done if event.qty is None else event.qty
    events.add_reversal(event.of, event.id, taken)
    if done + taken >= whole:
        events.mark_reversed(event.of, event.id)


def as_part(uow: UnitOfWork, event: Reversal, original: Event | None) -> Reversal:
    """``event`` with the quantity it takes back when it reverses the rest of an original
    reversed in part before (asked before :func:`record_reversal` records it)."""
    whole = reversible_qty(original) if original is not None else None
    if event.qty is not None or whole is None:
        return event
    done = sum((q for _, q in uow.events.reversals_of(event.of)), ZERO)
    return replace(event, qty=whole - done) if done else event


def share_taken(uow: UnitOfWork, event: Reversal, original: Event) -> Decimal:
    """The share of its original a reversal took back: 1, or for a partial one the quantity
    it took over the original's (rounded to 100 digits where it does not end)."""
    whole = reversible_qty(original)
    if whole:
        for by, qty in uow.events.reversals_of(event.of):
            if by == event.id:
                return ROUNDING.divide(qty, whole)
    return ONE
