"""Alerts with their numbers and acknowledgements, in SQL (part of the event log:
:class:`~backflush.adapters.sql.event_log.SqlEventLog`).

An alert is acknowledged once: a second acknowledgement changes nothing (the first who,
when and why stay on the record)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, any_, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.engine import Tx
from backflush.service_layer.ports import StoredAlert

a, e, b = t.alerts.c, t.events.c, t.event_bodies.c
_ROWS = select(a.id, a.event_id, b.date, a.code, a.message, a.acknowledged_by,
               a.acknowledged_on, a.note).select_from(
    t.alerts.outerjoin(t.events, e.id == a.event_id).outerjoin(t.event_bodies,
                                                              e.body == b.n))
_ACK = update(t.alerts).where(a.id == bindparam("alert"), a.acknowledged_on.is_(None)).values(
    acknowledged_by=bindparam("ack_by"), acknowledged_on=bindparam("ack_on"),
    note=bindparam("ack_note"))


def _in(tx: Tx, ids: Sequence[int]) -> Any:
    """``alerts.id`` among ``ids``, in one parameter whatever their number."""
    if tx.pg:
        return a.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    return a.id.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam("ids"))))


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class SqlAlerts:
    _tx: Tx

    def stored_alerts(self, *, open_only: bool = False, event_id: str | None = None,
                      ids: Sequence[int] | None = None, latest: int | None = None
                      ) -> list[StoredAlert]:
        query = _ROWS
        params: dict[str, Any] = {}
        if open_only:
            query = query.where(a.acknowledged_on.is_(None))
        if event_id is not None:
            query = query.where(a.event_id == bindparam("event"))
            params["event"] = event_id
        if ids is not None:
            if not ids:
                return []
            query = query.where(_in(self._tx, ids))
            params["ids"] = list(ids) if self._tx.pg else json.dumps(list(ids))
        if latest is not None:
            if latest <= 0:
                return []
            query = query.order_by(a.id.desc()).limit(latest)
        else:
            query = query.order_by(a.id)
        rows = [StoredAlert(int(r.id), r.event_id, _day(r.date), r.code, r.message,
                            r.acknowledged_by, r.acknowledged_on, r.note)
                for r in self._tx.rows(query, params)]
        return rows[::-1] if latest is not None else rows

    def acknowledge(self, ids: Sequence[int], by: str, on: str, note: str | None) -> None:
        if ids:
            self._tx.many(_ACK, [{"alert": i, "ack_by": by, "ack_on": on, "ack_note": note}
                                 for i in ids])
