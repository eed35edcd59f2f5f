"""The reports of a run, as the ``--json`` document and as Rich tables."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
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
