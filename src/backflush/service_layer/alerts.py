"""Alerts: listed (open ones, or all), and acknowledged by a person, on the record.

The posting rules raise them (:mod:`backflush.domain.alerts`), each with the event that
triggered it; the event log keeps them with a number. Acknowledging says someone has looked:
who, when (UTC) and, if given, why. It is idempotent: an alert acknowledged already keeps
its first acknowledgement. An unknown number is refused, and then nothing is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from backflush.domain import text
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.text import TextError
from backflush.service_layer.ports import StoredAlert
from backflush.service_layer.unit_of_work import UnitOfWork

MAX_NAME = 500
MAX_NOTE = 2000


class UnknownAlerts(ValidationError):
    """Alert numbers the ledger does not hold (nothing was acknowledged)."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids = tuple(ids)
        listed = ", ".join(str(i) for i in self.ids)
        super().__init__([Problem("alert", "id", f"no alert is numbered {listed} in this "
                                  "ledger (backflush alerts --all lists them)")])


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """What an acknowledgement did: the alerts as they now stand, and which of them were
    acknowledged before (left as they were)."""

    alerts: tuple[StoredAlert, ...]
    already: tuple[int, ...]


def list_alerts(uow: UnitOfWork, *, include_acknowledged: bool = False,
                event_id: str | None = None) -> list[StoredAlert]:
    """The open alerts (with ``include_acknowledged``, every one), oldest first."""
    with uow:
        return uow.events.stored_alerts(open_only=not include_acknowledged,
                                        event_id=event_id)


def acknowledge_alerts(uow: UnitOfWork, ids: Sequence[int], by: str,
                       note: str | None = None, now: datetime | None = None) -> Acknowledged:
    """Acknowledge the alerts numbered ``ids`` as ``by`` (with ``note``), in one
    transaction: all of them, or (an unknown number, a bad name) none."""
    problems = []
    by = by.strip()
    for field, value, longest in (("by", by, MAX_NAME), ("note", note, MAX_NOTE)):
        if value is None:
            continue
        try:
            text.free(value, field, longest)
        except TextError as exc:
            problems.append(Problem("alert", field, str(exc).split(": ", 1)[-1]))
    if not by:
        problems.append(Problem("alert", "by", "give who acknowledges"))
    if not ids:
        problems.append(Problem("alert", "id", "give the number of at least one alert"))
    if problems:
        raise ValidationError(problems)
    wanted = list(dict.fromkeys(ids))
    on = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with uow:
        found = {a.id: a for a in uow.events.stored_alerts(ids=wanted)}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise UnknownAlerts(missing)
        already = tuple(i for i in wanted if not found[i].open)
        uow.events.acknowledge([i for i in wanted if found[i].open], by, on, note or None)
        done = {a.id: a for a in uow.events.stored_alerts(ids=wanted)}
        uow.commit()
    return Acknowledged(tuple(done[i] for i in wanted), already)
