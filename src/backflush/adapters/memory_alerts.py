"""Alerts with their numbers and acknowledgements, in memory (part of the event log:
:class:`~backflush.adapters.memory.MemoryEvents`). An alert's number is its place in the
log, from 1; an acknowledgement is kept beside it, once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backflush.service_layer.ports import StoredAlert

Acknowledgement = tuple[str, str, str | None]  # by, on, note


class MemoryAlerts:
    s: Any  # the ledger's state (alerts, acks, events)

    def stored_alerts(self, *, open_only: bool = False, event_id: str | None = None,
                      ids: Sequence[int] | None = None, latest: int | None = None
                      ) -> list[StoredAlert]:
        s = self.s
        wanted = None if ids is None else set(ids)
        out = []
        for number, alert in enumerate(s.alerts, 1):
            ack = s.acks.get(number)
            if (open_only and ack is not None) or (wanted is not None and number not in wanted) \
                    or (event_id is not None and alert.event_id != event_id):
                continue
            row = s.events.get(alert.event_id)
            day = None if row is None else row.stored().event.date
            by, on, note = ack if ack is not None else (None, None, None)
            out.append(StoredAlert(number, alert.event_id, day, alert.code, alert.message,
                                   by, on, note))
        if latest is not None:
            return out[-latest:] if latest > 0 else []
        return out

    def acknowledge(self, ids: Sequence[int], by: str, on: str, note: str | None) -> None:
        for number in ids:
            if 1 <= number <= len(self.s.alerts):
                self.s.acks.setdefault(number, (by, on, note))
