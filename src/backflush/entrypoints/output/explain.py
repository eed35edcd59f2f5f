"""``backflush explain``: the audit trail of an event or a journal entry, as JSON or tables.

The JSON document is built first and the tables print from it, so the two never say
different things. Every value in it may come from input (ids, codes, memos, the event's own
fields): the tables show them through :func:`shown`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console

from backflush.domain.numbers import fmt, fmt_qty
from backflush.domain.rules.portion import reversible_qty
from backflush.entrypoints.output.console import print_json
from backflush.entrypoints.output.safety import Cell, Number, shown
from backflush.entrypoints.output.tables import Column, Report, print_report
from backflush.service_layer.reports import Explanation


def explanation_json(x: Explanation, minor: int) -> dict[str, Any]:
    event = x.event
    return {
        "event": {"id": event.id, "type": event.type, "date": event.date.isoformat(),
                  "content": event.content()} if event is not None else None,
        "reversed_by": x.reversed_by,
        "reversals": [{"id": rid, "qty": fmt_qty(qty)} for rid, qty in x.reversals],
        "summary_entry": x.summary,
        "entries": [{
            "seq": seq, "type": e.type, "description": e.description,
            "cost_version": e.cost_version, "bom": e.bom,
            "lines": [{"account": ln.account, "debit": fmt(ln.debit, minor),
                       "credit": fmt(ln.credit, minor), "memo": ln.memo} for ln in e.lines],
            "derivations": [{"item": d.item, "qty": fmt_qty(d.qty), "basis": d.basis,
                             "amount": fmt(d.amount, minor), "account": d.account,
                             "bom": d.bom, "location": d.location} for d in e.derivations]}
            for seq, e in x.entries],
        "stock_moves": [{"item": m.item, "location": m.location, "qty": fmt_qty(m.qty),
                         "kind": m.kind} for m in x.moves],
        "pending": [{"item": p.item, "location": p.location, "qty": fmt_qty(p.qty),
                     "source": p.source} for p in x.pending],
    }


def _table(title: str, columns: tuple[Column, ...], rows: list[dict[str, Any]],
           minor: int) -> Report:
    """Rows of the JSON document as a report (amounts never cut; empty values blank)."""
    def cell(value: Any, column: Column) -> Cell:
        if value in (None, ""):
            return None
        return Number(str(value)) if column.numeric else str(value)

    return Report(title, title, columns, [[cell(r[c.name], c) for c in columns] for r in rows],
                  minor=minor)


def plain(value: Any) -> str:
    """A field of the event as a person reads it: hours as ``WELD=2; CUT=0.5``."""
    if isinstance(value, list):
        if all(isinstance(v, list) and len(v) == 2 for v in value):  # hours: pairs
            return "; ".join(f"{k}={v}" for k, v in value)
        return "; ".join(plain(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"work_center", "hours"}:
            return f"{value['work_center']}={value['hours']}"
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
    return str(value)


def reversals_line(x: Explanation) -> str:
    """What the reversals of an event took back of it, and what is left."""
    whole = reversible_qty(x.event) if x.event is not None else None
    done = sum((q for _, q in x.reversals), Decimal(0))
    parts = ", ".join(f"{shown(rid)} {fmt_qty(q)}" for rid, q in x.reversals)
    if whole is None:
        return f"  Reversals: {parts}"
    return (f"  Reversed {fmt_qty(done)} of {fmt_qty(whole)} ({parts}); "
            f"{fmt_qty(whole - done)} left")


def print_explanation(console: Console, x: Explanation, minor: int, *, as_json: bool) -> None:
    doc = explanation_json(x, minor)
    if as_json:
        print_json(doc)
        return
    ev = doc["event"]
    if ev is None:
        console.print(f"[bold]Summary entry #{x.summary}[/]: the amounts of many events, each "
                      "computed by the posting rules (explain an event id for its share).")
    else:
        console.print(f"[bold]Event {shown(ev['id'])}[/] ({shown(ev['type'])}, {ev['date']})"
                      + (f" - reversed by {shown(x.reversed_by)}" if x.reversed_by else ""))
        if x.reversals:
            console.print(reversals_line(x))
        for key, value in ev["content"].items():
            if key not in ("type", "date") and value not in (None, "", [], {}):
                console.print(f"  {shown(key)}: {shown(plain(value))}")
    if ev is not None and x.summary is not None:
        console.print(f"  Posted in summary entry #{x.summary}" if x.summary else
                      "  Posted in a summary (no journal entry under this policy)")
        console.print("  Its share, by the posting rules at the standards it was posted at "
                      "(stock value at standard; the summary's stock lines telescope):")
    if not doc["entries"]:
        console.print("  No journal entry: a reopen changes no balance; it stays on the record."
                      if ev is not None and ev["type"] == "reopen" else
                      "  No journal entry: under this policy the event moves stock only.")
    for e in doc["entries"]:
        title = f"Entry #{e['seq']}" if x.summary is None or ev is None else "Share"
        console.print(f"[bold]{title} {shown(e['type'])}:[/] {shown(e['description'])}")
        console.print(f"Cost version {e['cost_version']}"
                      + (f", BOM {shown(e['bom'])}" if e["bom"] else ""))
        if e["derivations"]:
            print_report(console, _table(
                "Derived quantities and amounts",
                (Column("item"), Column("qty", "qty"), Column("basis"),
                 Column("amount", "money"), Column("account"), Column("bom"),
                 Column("location")), e["derivations"], minor))
        lines = [{**ln, "debit": ln["debit"] if Decimal(ln["debit"]) else None,
                  "credit": ln["credit"] if Decimal(ln["credit"]) else None}
                 for ln in e["lines"]]
        print_report(console, _table(
            "Journal lines", (Column("account"), Column("debit", "money"),
                              Column("credit", "money"), Column("memo")), lines, minor))
    if doc["stock_moves"]:
        print_report(console, _table(
            "Stock movements", (Column("item"), Column("location"), Column("qty", "qty"),
                                Column("kind")), doc["stock_moves"], minor))
