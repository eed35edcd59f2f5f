"""The reports of a run, as the ``--json`` document and as Rich tables."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from backflush.domain.errors import Problem
from backflush.domain.numbers import ZERO, fmt, fmt_qty
from backflush.service_layer import reports
from backflush.service_layer.repository import LedgerRepository

FORMAT = 1


def problems_json(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"source": p.source, "line": p.line, "entry": p.entry, "field": p.field,
             "message": p.message, "text": str(p)} for p in problems]


def run_json(ledger: LedgerRepository | None, errors: list[Problem],
             duplicates: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": FORMAT, "journal": [], "balances": {}, "stock": [],
                           "variances": {}, "alerts": [], "errors": problems_json(errors)}
    if ledger is None or errors:
        return doc
    minor = ledger.policy.minor_unit
    doc["journal"] = [
        {"seq": seq, "event": e.event_id, "date": e.date.isoformat(), "type": e.type,
         "description": e.description,
         "lines": [{"account": ln.account, "debit": fmt(ln.debit, minor),
                    "credit": fmt(ln.credit, minor),
                    **({"memo": ln.memo} if ln.memo else {})} for ln in e.lines]}
        for seq, e in reports.journal(ledger)]
    doc["balances"] = {a: fmt(b, minor) for a, b in reports.trial_balance(ledger)}
    doc["stock"] = [{"item": r.item, "location": r.location, "qty": fmt_qty(r.qty),
                     "value": fmt(r.value, minor)} for r in reports.stock_report(ledger)]
    doc["variances"] = {k: fmt(v, minor) for k, v in reports.variance_report(ledger).items()}
    doc["alerts"] = [{"event": a.event_id, "code": a.code, "message": a.message}
                     for a in ledger.alerts()]
    doc["duplicates"] = list(duplicates or [])
    return doc


def _money(value: Decimal, minor: int) -> str:
    return f"{Decimal(fmt(value, minor)):,.{minor}f}"


def print_problems(console: Console, problems: list[Problem], title: str) -> None:
    console.print(f"[bold red]{title}[/]")
    for p in problems:
        console.print(f"  [red]x[/] {p}", highlight=False, soft_wrap=True)


def print_reports(console: Console, ledger: LedgerRepository, *, journal: bool = True,
                  title: str = "") -> None:
    policy = ledger.policy
    minor = policy.minor_unit
    if title:
        console.rule(f"[bold]{title}")
    console.print(f"Policy: trigger points {policy.variant}, conversion "
                  f"{policy.conversion.value}, method {policy.method.value}, currency "
                  f"{policy.currency}", highlight=False)
    entries = reports.journal(ledger)
    if journal:
        t = Table(title="Journal", show_lines=False, title_justify="left")
        t.add_column("#", justify="right")
        t.add_column("event / account")
        t.add_column("debit", justify="right")
        t.add_column("credit", justify="right")
        for seq, e in entries:
            t.add_row(str(seq), f"[bold]{e.event_id}[/] {e.date.isoformat()} "
                      f"[italic]{e.description}[/]", "", "")
            for ln in e.lines:
                t.add_row("", ("  " if ln.debit else "      ") + ln.account,
                          _money(ln.debit, minor) if ln.debit else "",
                          _money(ln.credit, minor) if ln.credit else "")
        console.print(t)
    else:
        kinds = Counter(e.type for _, e in entries)
        lines = sum(len(e.lines) for _, e in entries)
        console.print(f"Journal: {len(entries)} entries, {lines} lines ("
                      + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")",
                      highlight=False)
    tb = Table(title="Trial balance", title_justify="left")
    tb.add_column("account")
    tb.add_column("debit", justify="right")
    tb.add_column("credit", justify="right")
    dr = cr = ZERO
    for account, balance in reports.trial_balance(ledger):
        if balance > 0:
            dr += balance
        else:
            cr -= balance
        tb.add_row(account, _money(balance, minor) if balance > 0 else "",
                   _money(-balance, minor) if balance < 0 else "")
    tb.add_row("[bold]Total", f"[bold]{_money(dr, minor)}", f"[bold]{_money(cr, minor)}")
    console.print(tb)
    st = Table(title="Stock on hand", title_justify="left")
    for col, just in (("item", "left"), ("location", "left"), ("qty", "right"),
                      ("value", "right"), ("account", "left")):
        st.add_column(col, justify=just)  # type: ignore[arg-type]
    for row in reports.stock_report(ledger):
        st.add_row(row.item, row.location, fmt_qty(row.qty), _money(row.value, minor),
                   row.account)
    console.print(st)
    vt = Table(title="Variances measured (positive = unfavourable / under-applied)",
               title_justify="left")
    vt.add_column("family")
    vt.add_column("amount", justify="right")
    vt.add_column("disposition")
    for family, amount in reports.variance_report(ledger).items():
        vt.add_row(family, _money(amount, minor), policy.disposition[family].value)
    console.print(vt)
    findings = ledger.findings()
    if findings:
        console.print("[bold]Counts point at these BOM lines:[/]")
        for f in findings:
            console.print(f"  - {f.message}", highlight=False)
    alerts = [a for a in ledger.alerts() if a.code != "wrong_bom_line"]
    if alerts:
        counts = Counter(a.code for a in alerts)
        console.print("[bold yellow]Alerts:[/] " + ", ".join(f"{k} x{n}"
                                                            for k, n in counts.items()))
        for a in alerts[:20]:
            console.print(f"  - {a.event_id}: {a.message}", highlight=False, soft_wrap=True)
        if len(alerts) > 20:
            console.print(f"  ... and {len(alerts) - 20} more (see --json)")


def comparison_json(c: reports.Comparison, ledger: LedgerRepository) -> dict[str, Any]:
    minor = ledger.policy.minor_unit
    return {"format": FORMAT,
            "entries": {"backflush": c.entries[0], "sequential": c.entries[1]},
            "lines": {"backflush": c.lines[0], "sequential": c.lines[1]},
            "balances": [{"account": a, "backflush": fmt(x, minor), "sequential": fmt(y, minor),
                          "difference": fmt(x - y, minor)} for a, x, y in c.balances]}


def print_comparison(console: Console, c: reports.Comparison, ledger: LedgerRepository) -> None:
    minor = ledger.policy.minor_unit
    console.print(f"Journal entries: backflush {c.entries[0]}, sequential {c.entries[1]}; "
                  f"lines: backflush {c.lines[0]}, sequential {c.lines[1]}")
    t = Table(title="Balances side by side (debit positive)", title_justify="left")
    t.add_column("account")
    for col in ("backflush", "sequential", "difference"):
        t.add_column(col, justify="right")
    for account, x, y in c.balances:
        t.add_row(account, _money(x, minor), _money(y, minor),
                  _money(x - y, minor) if x != y else "")
    console.print(t)
    console.print("Accounts differ only in where materials sit (one RIP account against "
                  "Materials + WIP); with no work in process left at period end, the totals "
                  "agree.")


# --------------------------------------------------------------------------- stored reports

REPORTS = ("trial-balance", "stock", "variances", "journal")


def report_rows(ledger: LedgerRepository, name: str) -> tuple[list[str], list[list[str]]]:
    """A report as a header and rows of text (decimals as canonical strings)."""
    minor = ledger.policy.minor_unit
    if name == "trial-balance":
        return ["account", "debit", "credit"], [
            [a, fmt(b, minor) if b > 0 else "", fmt(-b, minor) if b < 0 else ""]
            for a, b in reports.trial_balance(ledger)]
    if name == "stock":
        return ["item", "location", "qty", "value", "account"], [
            [r.item, r.location, fmt_qty(r.qty), fmt(r.value, minor), r.account]
            for r in reports.stock_report(ledger)]
    if name == "variances":
        policy = ledger.policy
        return ["family", "amount", "disposition"], [
            [k, fmt(v, minor), policy.disposition[k].value]
            for k, v in reports.variance_report(ledger).items()]
    return ["entry", "date", "event", "type", "description", "account", "debit", "credit",
            "memo"], [
        [str(seq), e.date.isoformat(), e.event_id, e.type, e.description, ln.account,
         fmt(ln.debit, minor), fmt(ln.credit, minor), ln.memo]
        for seq, e in reports.journal(ledger) for ln in e.lines]


def write_report(console: Console, ledger: LedgerRepository, name: str, fmt_: str,
                 out: Path | None) -> None:
    header, rows = report_rows(ledger, name)
    if fmt_ == "table":
        t = Table(title=name.replace("-", " ").capitalize(), title_justify="left")
        numeric = {"debit", "credit", "qty", "value", "amount", "entry"}
        for col in header:
            t.add_column(col, justify="right" if col in numeric else "left")
        for row in rows:
            t.add_row(*row)
        console.print(t)
        return
    if fmt_ == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = name
        ws.append(header)
        for row in rows:
            ws.append([_xlsx_cell(c, col) for c, col in zip(row, header, strict=True)])
        assert out is not None
        wb.save(out)
        console.print(f"Wrote {len(rows)} rows to {out}")
        return
    buffer = io.StringIO()
    if fmt_ == "csv":
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    else:
        json.dump([dict(zip(header, r, strict=True)) for r in rows], buffer, indent=2)
        buffer.write("\n")
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8")
        console.print(f"Wrote {len(rows)} rows to {out}")


def _xlsx_cell(text: str, column: str) -> object:
    """Amounts as exact numbers where a spreadsheet can hold them, else as text."""
    if column in {"debit", "credit", "value", "amount", "qty"} and text:
        number = Decimal(text)
        if len(number.as_tuple().digits) <= 15:
            return number
    return text


def explanation_json(x: reports.Explanation, ledger: LedgerRepository) -> dict[str, Any]:
    from backflush.domain.events import Event

    minor = ledger.policy.minor_unit
    event: Event | None = x.event
    return {
        "event": {"id": event.id, "type": event.type, "date": event.date.isoformat(),
                  "content": event.content()} if event is not None else None,
        "reversed_by": x.reversed_by,
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


def print_explanation(console: Console, x: reports.Explanation, ledger: LedgerRepository, *,
                      as_json: bool) -> None:
    doc = explanation_json(x, ledger)
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    ev = doc["event"]
    if ev is None:
        console.print(f"[bold]Summary entry #{x.summary}[/]: the amounts of many events, each "
                      "computed by the posting rules (explain an event id for its share).")
    else:
        console.print(f"[bold]Event {ev['id']}[/] ({ev['type']}, {ev['date']})"
                      + (f" - reversed by {x.reversed_by}" if x.reversed_by else ""))
        for key, value in ev["content"].items():
            if key not in ("type", "date"):
                console.print(f"  {key}: {value}", highlight=False)
    if ev is not None and x.summary is not None:
        console.print(f"  Posted in summary entry #{x.summary}" if x.summary else
                      "  Posted in a summary (no journal entry under this policy)")
        console.print("  Its share, by the posting rules at the standards it was posted at "
                      "(stock value at standard; the summary's stock lines telescope):")
    if not doc["entries"]:
        console.print("  No journal entry: under this policy the event moves stock only.")
    for e in doc["entries"]:
        title = f"Entry #{e['seq']}" if x.summary is None or ev is None else "Share"
        console.rule(f"{title} {e['type']}: {e['description']}")
        console.print(f"Cost version {e['cost_version']}"
                      + (f", BOM {e['bom']}" if e["bom"] else ""), highlight=False)
        if e["derivations"]:
            t = Table(title="Derived quantities and amounts", title_justify="left")
            for col in ("item", "qty", "basis", "amount", "account", "bom", "location"):
                t.add_column(col, justify="right" if col in ("qty", "amount") else "left")
            for d in e["derivations"]:
                t.add_row(*(d[c] for c in ("item", "qty", "basis", "amount", "account", "bom",
                                           "location")))
            console.print(t)
        t = Table(title="Journal lines", title_justify="left")
        for col in ("account", "debit", "credit", "memo"):
            t.add_column(col, justify="right" if col in ("debit", "credit") else "left")
        for ln in e["lines"]:
            t.add_row(ln["account"], ln["debit"] if Decimal(ln["debit"]) else "",
                      ln["credit"] if Decimal(ln["credit"]) else "", ln["memo"])
        console.print(t)
    if doc["stock_moves"]:
        t = Table(title="Stock movements", title_justify="left")
        for col in ("item", "location", "qty", "kind"):
            t.add_column(col, justify="right" if col == "qty" else "left")
        for m in doc["stock_moves"]:
            t.add_row(m["item"], m["location"], m["qty"], m["kind"])
        console.print(t)
