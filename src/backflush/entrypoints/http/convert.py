"""Ledger records as the API's response models (decimals as strings, always)."""

from __future__ import annotations

from backflush.domain.journal import JournalEntry
from backflush.domain.numbers import fmt, fmt_qty
from backflush.entrypoints.http import models as m
from backflush.entrypoints.output.safety import json_cell
from backflush.entrypoints.output.tables import Report
from backflush.service_layer.ports import StoredEntry, StoredEvent


def entry(seq: int, e: JournalEntry, minor: int) -> m.Entry:
    return m.Entry(seq=seq, date=e.date.isoformat(), event=e.event_id, type=e.type,
                   description=e.description,
                   lines=[m.Line(account=ln.account, debit=fmt(ln.debit, minor),
                                 credit=fmt(ln.credit, minor), memo=ln.memo)
                          for ln in e.lines])


def event(stored: StoredEvent, entries: list[StoredEntry], minor: int) -> m.EventOut:
    ev = stored.event
    return m.EventOut(id=ev.id, type=ev.type, date=ev.date.isoformat(), seq=stored.seq,
                      cost_version=stored.cost_version, summary_entry=stored.summary or None,
                      content=ev.content(),
                      entries=[entry(s.seq, s.entry, minor) for s in entries])


def report(made: Report) -> m.ReportOut:
    names = [c.name for c in made.columns]
    return m.ReportOut(
        name=made.name, title=made.title,
        columns=[m.ColumnOut(name=c.name, kind=c.kind) for c in made.columns],
        rows=[dict(zip(names, map(json_cell, row), strict=True)) for row in made.rows],
        total=dict(zip(names, map(json_cell, made.total), strict=True))
        if made.total is not None else None)


def qty(value: object) -> str:
    return fmt_qty(value)  # type: ignore[arg-type]
