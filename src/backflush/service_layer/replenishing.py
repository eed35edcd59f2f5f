"""Sending kanban cards: a signal event for every supermarket short of its demand, posted
all or nothing like any batch (:mod:`.kanban` works out what each lacks)."""

from __future__ import annotations

from datetime import date

from backflush.domain.events import Signal
from backflush.service_layer.kanban import signals_for
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork


def send_signals(uow: UnitOfWork, day: date | None = None) -> list[Signal]:
    """Post a signal for each supermarket whose kanban quantity is positive; the signals
    posted (none when every supermarket is covered)."""
    with uow:
        events = signals_for(uow, day)
        if events:
            post_events_in(uow, events)
        uow.commit()
    return events
