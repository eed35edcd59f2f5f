"""The event log in SQL: every event posted, once, by its id; its alerts and findings.

Sequence numbers (of events and of their bodies) are given here (the last one read once per
transaction, then counted), so they stay dense on every backend. An event row is its
number, id and *body* (what it says, and how it was posted: ``event_bodies``); the events of
a summary's slot share one body. An id is refused by the database itself (the unique index
on ``events.id``): one event with ``INSERT ... ON CONFLICT DO NOTHING`` (the transaction stays
usable on PostgreSQL; its body, written first, is taken back), many at once through
:mod:`.bulk` inside a savepoint (a clash undoes the whole batch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from backflush.adapters.sql import bulk
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.alert_store import SqlAlerts
from backflush.adapters.sql.codec import (
    EventDecoder,
    date_text,
    decimal_text,
    event_columns,
    event_from_columns,
    optional_decimal_text,
)
from backflush.adapters.sql.engine import Tx, is_unique_violation, translate
from backflush.domain.errors import ConcurrencyError
from backflush.domain.events import Event
from backflush.domain.journal import Alert, Finding
from backflush.domain.numbers import ZERO
from backflush.service_layer.ports import EventRows, IdsTaken, StoredEvent

PAGE = 5_000  # rows read per query when the whole log is read
IDS_PER_QUERY = 10_000  # ids looked up per query
KEPT_COLUMNS = 50_000  # templates whose encoded columns are kept (a file has a few)
e, b = t.events.c, t.event_bodies.c
_COLUMNS = (e.seq, e.id, b.type, b.date, b.item, b.qty, b.payload, b.cost_version, b.entry_seq,
            e.reversed_by)
_EVENTS = select(*_COLUMNS).select_from(t.events.join(t.event_bodies, e.body == b.n))
_BY_ID = _EVENTS.where(e.id == bindparam("id"))
# Many ids in one parameter (a JSON array on SQLite, an array on PostgreSQL): the same
# statement whatever their number, not an IN list rendered again for every call.
_BY_IDS = {
    "sqlite": _EVENTS.where(e.id.in_(
        select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))),
    "postgresql": _EVENTS.where(e.id == any_(bindparam("ids", type_=ARRAY(String)))),
}
_PAGE = _EVENTS.where(e.seq > bindparam("after")).order_by(e.seq).limit(PAGE)
_LAST = select(func.max(e.seq))
_LAST_BODY = select(func.max(b.n))
# (indexed: the pending-age alert asks whenever issues are parked; bulk rows share bodies)
_LAST_DATE = select(func.max(b.date))
_SUMMARISED_REVERSED = _EVENTS.where(and_(
    e.reversed_by.is_not(None), b.entry_seq.is_not(None), b.type == bindparam("kind"),
    b.date >= bindparam("start"), b.date <= bindparam("end"))).order_by(e.seq)
_BODY = insert(t.event_bodies)
_DROP_BODY = delete(t.event_bodies).where(b.n == bindparam("n"))
_MARK = update(t.events).where(e.id == bindparam("of")).values(reversed_by=bindparam("by"))
rv = t.reversals.c
_ADD_REVERSAL = insert(t.reversals)
_REVERSALS_OF = select(rv.reversal, rv.qty).where(rv.original == bindparam("of")).order_by(rv.id)
_ALERTS = select(t.alerts.c.event_id, t.alerts.c.code, t.alerts.c.message).order_by(
    t.alerts.c.id)
_ALERTS_OF = _ALERTS.where(t.alerts.c.event_id == bindparam("id"))
_LATEST_ALERTS = select(t.alerts.c.event_id, t.alerts.c.code, t.alerts.c.message).order_by(
    t.alerts.c.id.desc()).limit(bindparam("limit"))
f = t.findings.c
_FINDING_COLUMNS = ("event_seq", "event_id", "parent", "component", "bom", "bom_qty",
                    "suggested_qty", "backflushed", "difference")
_FINDINGS = select(f.event_id, f.parent, f.component, f.bom, f.bom_qty, f.suggested_qty,
                   f.backflushed, f.difference).order_by(f.id)


def _insert_event(dialect: str) -> Any:
    """One event; an id posted before inserts nothing (no error, no aborted transaction)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.events)
    # (rowcount says whether it inserted; SQLAlchemy keeps it for INSERTs only when asked)
    return ins.on_conflict_do_nothing(index_elements=[e.id]).execution_options(
        preserve_rowcount=True)


_APPEND = {d: _insert_event(d) for d in ("sqlite", "postgresql")}


def _stored(row: Any, decode: Any = event_from_columns) -> StoredEvent:
    seq, event_id, kind, when, item, qty, payload, cost_version, entry, reversed_by = row
    return StoredEvent(decode(kind, event_id, when, item, qty, payload), seq, cost_version,
                       entry, reversed_by)


class SqlEventLog(SqlAlerts):
    """Implements :class:`~backflush.service_layer.ports.EventLog` in one transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._last: int | None = None  # the last sequence number, once read
        self._body: int | None = None  # the last body's number, once read
        # Each template's encoded columns, by identity (the template kept with them, so its
        # id is not reused): a file's runs share their templates.
        self._columns: dict[int, tuple[Event, tuple[bulk.Value, ...]]] = {}

    def save(self) -> object:
        return self._last, self._body

    def restore(self, saved: object) -> None:
        self._last, self._body = saved if isinstance(saved, tuple) else (None, None)

    def _last_seq(self) -> int:
        if self._last is None:
            self._last = int(self._tx.scalar(_LAST) or 0)
        return self._last

    def _last_body(self) -> int:
        if self._body is None:
            self._body = int(self._tx.scalar(_LAST_BODY) or 0)
        return self._body

    # ------------------------------------------------------------------ reading
    def get(self, event_id: str) -> StoredEvent | None:
        found = self._tx.rows(_BY_ID, {"id": event_id})
        return _stored(found[0]) if found else None

    def find(self, ids: Sequence[str]) -> Mapping[str, StoredEvent]:
        wanted = list(dict.fromkeys(ids))
        decode = EventDecoder()
        found: dict[str, StoredEvent] = {}
        statement = _BY_IDS[self._tx.engine.dialect.name]
        for start in range(0, len(wanted), IDS_PER_QUERY):
            part = wanted[start:start + IDS_PER_QUERY]
            param: object = part if self._tx.pg else json.dumps(part)
            for row in self._tx.rows(statement, {"ids": param}):
                found[row.id] = _stored(row, decode)
        return {i: found[i] for i in ids if i in found}

    def count(self) -> int:
        return self._last_seq()  # (dense: the last number is the count)

    def last_date(self) -> date | None:
        found = self._tx.scalar(_LAST_DATE)
        return found if found is None or isinstance(found, date) else date.fromisoformat(found)

    def all(self, after: int = 0) -> Iterator[StoredEvent]:
        decode = EventDecoder()
        while True:
            rows = self._tx.rows(_PAGE, {"after": after})
            yield from (_stored(row, decode) for row in rows)
            if len(rows) < PAGE:
                return
            after = rows[-1].seq

    def summarised_reversed(self, kind: str, start: date, end: date) -> list[StoredEvent]:
        return [_stored(row) for row in self._tx.rows(
            _SUMMARISED_REVERSED, {"kind": kind, "start": start, "end": end})]

    def alerts(self, event_id: str | None = None) -> list[Alert]:
        if event_id is None:
            return [Alert(*row) for row in self._tx.rows(_ALERTS)]
        return [Alert(*row) for row in self._tx.rows(_ALERTS_OF, {"id": event_id})]

    def latest_alerts(self, limit: int) -> list[Alert]:
        latest = self._tx.rows(_LATEST_ALERTS, {"limit": limit}) if limit > 0 else []
        return [Alert(*row) for row in reversed(latest)]

    def findings(self) -> list[Finding]:
        return [Finding(*row) for row in self._tx.rows(_FINDINGS)]

    # ------------------------------------------------------------------ writing
    def append(self, event: Event, cost_version: int, summary: int | None = None) -> int:
        kind, when, item, qty, payload = event_columns(event)
        seq, body = self._last_seq() + 1, self._last_body() + 1
        try:
            self._tx.run(_BODY, {
                "n": body, "type": kind, "date": when, "item": item, "qty": qty,
                "payload": payload, "cost_version": cost_version, "entry_seq": summary},
                integrity=True)
            result = self._tx.run(_APPEND[self._tx.engine.dialect.name], {
                "seq": seq, "id": event.id, "body": body, "reversed_by": None},
                integrity=True)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise translate(exc, self._tx.engine) from None
            # Not the id (that conflict inserts nothing): a number, taken by a concurrent
            # transaction since this one read the last.
            raise ConcurrencyError("another transaction posted events meanwhile; running "
                                   "again is safe") from None
        if result.rowcount != 1:
            self._tx.run(_DROP_BODY, {"n": body})  # (the id was posted before: no body)
            raise IdsTaken([event.id])
        self._last, self._body = seq, body
        return seq

    def append_many(self, rows: EventRows, cost_version: int) -> None:
        if not len(rows):
            return
        ids = rows.ids
        if len(set(ids)) != len(ids):
            raise IdsTaken(self._taken(ids))
        tails: list[tuple[bulk.Value, ...]] = []
        columns = self._columns
        if len(columns) > KEPT_COLUMNS:
            columns.clear()
        for n, (template, entry) in enumerate(zip(rows.templates, rows.entries, strict=True)):
            when = rows.date_of(n)
            found = columns.get(id(template))
            if found is None or found[0] is not template:
                kind, _, item, qty, payload = event_columns(template)
                found = columns[id(template)] = (
                    template, (kind, item, optional_decimal_text(qty), payload))
            kind_text, item_text, qty_text, payload_text = found[1]
            tails.append((kind_text, date_text(when), item_text, qty_text, payload_text,
                          cost_version, entry))
        first, first_body = self._last_seq() + 1, self._last_body() + 1
        with self._tx.guard() as conn:
            nested = conn.begin_nested()
        try:
            bulk.append_events(conn, first, first_body, ids, rows.index, tails)
        except BaseException as exc:
            with self._tx.guard():
                nested.rollback()  # (nothing of the rows is left, whatever the caller does)
            if not isinstance(exc, IntegrityError) or not is_unique_violation(exc):
                if isinstance(exc, SQLAlchemyError):
                    raise translate(exc, self._tx.engine) from None
                raise
            taken = self._taken(ids)
            if not taken:  # a number taken by a concurrent transaction, not an id
                raise ConcurrencyError("another transaction posted events meanwhile; running "
                                       "again is safe") from None
            raise IdsTaken(taken) from None
        with self._tx.guard():
            nested.commit()
        self._last = first + len(ids) - 1
        self._body = first_body + len(tails) - 1

    def _taken(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` posted before, in their order (as often as they come)."""
        found = self.find(ids)
        return [i for i in ids if i in found]

    def mark_reversed(self, of: str, by: str) -> None:
        if self._tx.run(_MARK, {"of": of, "by": by}).rowcount != 1:
            raise KeyError(of)

    def add_reversal(self, of: str, by: str, qty: Decimal) -> None:
        self._tx.run(_ADD_REVERSAL, {"original": of, "reversal": by, "qty": qty})

    def reversals_of(self, of: str) -> list[tuple[str, Decimal]]:
        return [(by, qty) for by, qty in self._tx.rows(_REVERSALS_OF, {"of": of})]

    def reversed_quantities(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for of, qty in self._tx.rows(select(rv.original, rv.qty)):  # (summed exactly here)
            out[of] = out.get(of, ZERO) + qty
        return out

    def add_alerts(self, event_seq: int | None, alerts: Sequence[Alert]) -> None:
        with self._tx.guard() as conn:
            bulk.insert_rows(conn, "alerts", ("event_seq", "event_id", "code", "message"),
                             [(event_seq, a.event_id, a.code, a.message) for a in alerts])

    def add_findings(self, event_seq: int, findings: Sequence[Finding]) -> None:
        with self._tx.guard() as conn:
            bulk.insert_rows(conn, "findings", _FINDING_COLUMNS, [
                (event_seq, x.event_id, x.parent, x.component, x.bom, decimal_text(x.bom_qty),
                 decimal_text(x.suggested_qty), decimal_text(x.backflushed),
                 decimal_text(x.difference)) for x in findings])
