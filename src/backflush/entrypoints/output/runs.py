"""The reports of a scenario run (``run``, ``demo``, ``compare``): the ``--json`` document
(docs/scenario-format.md) and the Rich tables.

Every function reads one unit of work (a read-only transaction) and prints or returns; the
numbers come from :mod:`backflush.service_layer.reports`. Text from the scenario (codes,
ids, descriptions, memos, account names, alert messages) goes through :func:`shown`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from backflush.domain.errors import Problem
from backflush.domain.events import period_bounds
from backflush.domain.kanban import KanbanLine
from backflush.domain.numbers import fmt, fmt_qty
from backflush.entrypoints.output import reports as built
from backflush.entrypoints.output.accuracy import accuracy_json, summary_lines, unexplained_json
from backflush.entrypoints.output.safety import shown
from backflush.entrypoints.output.suitability import suitability_json
from backflush.entrypoints.output.tables import Report, grouped, print_report
from backflush.service_layer import kanban, periods, reports
from backflush.service_layer.accuracy import bom_accuracy
from backflush.service_layer.analysis import variance_analysis
from backflush.service_layer.kpis import kpis
from backflush.service_layer.queue import queue as whole_queue
from backflush.service_layer.suitability import suitability
from backflush.service_layer.unit_of_work import UnitOfWork

FORMAT = 1
ALERTS_SHOWN = 20


def problems_json(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    return [{"source": p.source, "line": p.line, "entry": p.entry, "field": p.field,
             "message": p.message, "text": str(p)} for p in problems]


def invariant_problems(broken: Sequence[str]) -> list[Problem]:
    """Broken invariants as problems, so that ``--json`` lists them in ``errors`` too."""
    return [Problem("ledger", None, f"invariant broken: {message}") for message in broken]


def run_json(uow: UnitOfWork | None, errors: Sequence[Problem],
             duplicates: Sequence[str] = ()) -> dict[str, Any]:
    """The ``--json`` document. On failure (``uow`` None) only ``errors`` is filled; when
    invariants are broken the reports are there *and* ``errors`` says so."""
    doc: dict[str, Any] = {"format": FORMAT, "journal": [], "balances": {}, "stock": [],
                           "variances": {}, "alerts": [], "duplicates": list(duplicates),
                           "errors": problems_json(errors)}
    if uow is None:
        doc["duplicates"] = []
        return doc
    minor = uow.master.policy().minor_unit
    doc["journal"] = [
        {"seq": seq, "event": e.event_id, "date": e.date.isoformat(), "type": e.type,
         "description": e.description,
         "lines": [{"account": ln.account, "debit": fmt(ln.debit, minor),
                    "credit": fmt(ln.credit, minor),
                    **({"memo": ln.memo} if ln.memo else {})} for ln in e.lines]}
        for seq, e in reports.journal(uow)]
    doc["balances"] = {a: fmt(b, minor) for a, b in reports.trial_balance(uow)}
    doc["stock"] = [{"item": r.item, "location": r.location, "qty": fmt_qty(r.qty),
                     "value": fmt(r.value, minor)} for r in reports.stock_report(uow)]
    doc["variances"] = {k: fmt(v, minor) for k, v in reports.variance_report(uow).items()}
    doc["alerts"] = [{"event": a.event_id, "code": a.code, "message": a.message}
                     for a in uow.events.alerts()]
    doc["periods"] = [period_json(uow, period, minor) for period in periods.closed_periods(uow)]
    accuracy = bom_accuracy(uow)
    doc["bom_accuracy"] = accuracy_json(accuracy)
    doc["bom_accuracy_unexplained"] = unexplained_json(accuracy)
    doc["kanban"] = [kanban_json(line) for line in kanban.kanban(uow)]
    doc["kpis"] = kpis_json(uow, minor)
    doc["suitability"] = suitability_json(suitability(uow, reports.ALL), minor)
    doc["queue"] = [{"event": p.event, "item": p.item, "location": p.location,
                     "qty": fmt_qty(p.qty), "since": p.since.isoformat() if p.since else None,
                     "age_days": p.age_days, "reason": p.reason,
                     "blocks_close": p.blocks_close} for p in whole_queue(uow)]
    return doc


def kanban_json(line: KanbanLine) -> dict[str, Any]:
    return {"item": line.item, "location": line.location, "on_hand": fmt_qty(line.on_hand),
            "demand": fmt_qty(line.demand), "open_signals": fmt_qty(line.open_signals),
            "replenish_qty": fmt_qty(line.replenish_qty), "containers": line.containers,
            "container_qty": fmt_qty(line.container_qty)}


def kpis_json(uow: UnitOfWork, minor: int) -> dict[str, Any]:
    k = kpis(uow, reports.ALL)

    def text(value: Decimal | None) -> str | None:
        return None if value is None else fmt_qty(value)

    o = k.orders
    return {"scrap": [{"item": s.item, "good": fmt_qty(s.good), "scrapped": fmt_qty(s.scrapped),
                       "rate": text(s.rate)} for s in k.scrap],
            "suppliers": [{"supplier": p.supplier, "receipts": p.receipts,
                           "at_invoice": fmt(p.at_invoice, minor),
                           "at_standard": fmt(p.at_standard, minor),
                           "price_variance": fmt(p.variance, minor),
                           "variance_rate": text(p.variance_rate)} for p in k.suppliers],
            "orders": {"released": o.released, "completed": o.completed, "on_time": o.on_time,
                       "with_due": o.with_due, "average_cycle_days": text(o.cycle_days),
                       "longest_cycle_days": o.longest_cycle_days},
            "scrap_by_work_center": [
                {"work_center": w.work_center, "good": fmt_qty(w.good),
                 "scrapped": fmt_qty(w.scrapped), "rate": text(w.rate)}
                for w in k.work_centers],
            "on_time_receipts": [
                {"supplier": d.supplier, "with_due": d.with_due, "on_time": d.on_time,
                 "on_time_rate": text(d.on_time_rate),
                 "average_days_late": text(d.average_days_late)} for d in k.deliveries],
            "inventory_turnover": text(k.inventory_turnover),
            "annual_inventory_turnover": text(k.annual_turnover), "days": k.days,
            "cost_of_goods_sold": fmt(k.cost_of_goods_sold, minor),
            "average_inventory": fmt(k.average_inventory, minor)}


def period_json(uow: UnitOfWork, period: str, minor: int) -> dict[str, Any]:
    """One closed period: balances after the close (and after the GAAP bridge, when the close
    asked for it), its income statements, its variances by family."""
    p = periods.period_figures(uow, period)
    start, end = period_bounds(period)

    def amounts(figures: Any) -> dict[str, str]:
        return {name: fmt(getattr(figures, name), minor) for name in figures.__slots__}

    out: dict[str, Any] = {"period": period,
                           "balances": {a: fmt(b, minor) for a, b in p.balances}}
    if p.gaap_balances is not None:
        out["gaap_balances"] = {a: fmt(b, minor) for a, b in p.gaap_balances}
    out["income_statement"] = {"absorption": amounts(p.absorption),
                               "throughput": amounts(p.throughput),
                               "conversion_carried": {"start": fmt(p.carried[0], minor),
                                                      "end": fmt(p.carried[1], minor)}}
    if p.gaap is not None:
        out["income_statement"]["gaap"] = amounts(p.gaap)
    a = variance_analysis(uow, reports.Window(start, end))
    conversion: dict[str, dict[str, str]] = {}
    for (part, element), value in a.conversion.items():
        conversion.setdefault(part, {})[element] = fmt(value, minor)
    out["variance_analysis"] = {"families": {k: fmt(v, minor) for k, v in a.families.items()},
                                "conversion": conversion,
                                "scrap": {k: fmt(v, minor) for k, v in a.scrap.items()}}
    return out


def money(value: Decimal, minor: int) -> str:
    """An amount for a human: thousands separated, the currency's minor unit."""
    return grouped(fmt(value, minor), minor)


def print_reports(console: Console, uow: UnitOfWork, *, journal: bool = True,
                  title: str = "") -> None:
    """Policy, journal (every entry, or a count by type), trial balance, stock, variances,
    the BOM lines counts point at, and alerts. ``title`` is shown as given (safe already)."""
    policy = uow.master.policy()
    minor = policy.minor_unit
    if title:
        console.rule(f"[bold]{title}")
    console.print(f"Policy: trigger points {policy.variant}, conversion "
                  f"{policy.conversion.value}, method {policy.method.value}, currency "
                  f"{shown(policy.currency)}")
    entries = reports.journal(uow)
    if journal:
        t = Table(title="Journal", title_justify="left")
        t.add_column("#", justify="right", no_wrap=True)
        t.add_column("event / account", overflow="fold")
        width = max([6, *(len(money(max(ln.debit, ln.credit), minor)) for _, e in entries
                          for ln in e.lines)])
        t.add_column("debit", justify="right", no_wrap=True, min_width=width)
        t.add_column("credit", justify="right", no_wrap=True, min_width=width)
        for seq, e in entries:
            t.add_row(str(seq), f"[bold]{shown(e.event_id)}[/] {e.date.isoformat()} "
                      f"[italic]{shown(e.description)}[/]", "", "")
            for ln in e.lines:
                t.add_row("", ("  " if ln.debit else "      ") + shown(ln.account),
                          money(ln.debit, minor) if ln.debit else "",
                          money(ln.credit, minor) if ln.credit else "")
        console.print(t)
    else:
        kinds = Counter(e.type for _, e in entries)
        lines = sum(len(e.lines) for _, e in entries)
        console.print(f"Journal: {len(entries)} entries, {lines} lines ("
                      + ", ".join(f"{shown(k)} {n}" for k, n in sorted(kinds.items())) + ")")
    for report in tables_of(uow):
        print_report(console, report)
    findings = summary_lines(bom_accuracy(uow))
    if findings:
        console.print("[bold]Counts point at these BOM lines:[/]")
        for line in findings:
            console.print(f"  - {shown(line)}")
    alerts = [a for a in uow.events.alerts() if a.code != "wrong_bom_line"]
    if alerts:
        counts = Counter(a.code for a in alerts)
        console.print("[bold yellow]Alerts:[/] " + ", ".join(f"{shown(k)} x{n}"
                                                            for k, n in counts.items()))
        for a in alerts[:ALERTS_SHOWN]:
            console.print(f"  - {shown(a.event_id)}: {shown(a.message)}")
        if len(alerts) > ALERTS_SHOWN:
            console.print(f"  ... and {len(alerts) - ALERTS_SHOWN} more (see --json)")


def tables_of(uow: UnitOfWork) -> list[Report]:
    """The trial balance, stock and variances a run shows (the journal is printed above), the
    pending queue and the kanban board when there are any, the key figures, and each closed
    period's income statements and, when its close posted one, GAAP bridge."""
    made = [built.trial_balance(uow), built.stock(uow), built.variances(uow)]
    if uow.stock.pending_totals() or uow.floor.held():
        made.append(built.queue(uow))
    if uow.master.master().kanban:
        made.append(built.kanban_report(uow, "kanban", reports.ALL))
    made.append(built.key_figures(uow))
    for period in periods.closed_periods(uow):
        figures = periods.period_figures(uow, period)
        made.append(built.analysis(uow, period))
        made.append(built.income(uow, period, figures))
        if figures.gaap_balances is not None:
            made.append(built.gaap(uow, period, figures))
    return made


def comparison_json(c: reports.Comparison, minor: int) -> dict[str, Any]:
    return {"format": FORMAT,
            "entries": {"backflush": c.entries[0], "sequential": c.entries[1]},
            "lines": {"backflush": c.lines[0], "sequential": c.lines[1]},
            "inventory": {"backflush": fmt(c.inventory[0], minor),
                          "sequential": fmt(c.inventory[1], minor)},
            "balances": [{"account": a, "backflush": fmt(x, minor), "sequential": fmt(y, minor),
                          "difference": fmt(x - y, minor)} for a, x, y in c.balances]}


def print_comparison(console: Console, c: reports.Comparison, minor: int) -> None:
    console.print(f"Journal entries: backflush {c.entries[0]}, sequential {c.entries[1]}; "
                  f"lines: backflush {c.lines[0]}, sequential {c.lines[1]}")
    print_report(console, built.comparison(c, minor))
    console.print(comparison_note(c, minor))


def comparison_note(c: reports.Comparison, minor: int) -> str:
    """What the side-by-side says about inventory, from the figures (not a stock phrase)."""
    flushed, tracked = c.inventory
    if flushed == tracked:
        return (f"Inventory is {money(flushed, minor)} both ways: the accounts differ only in "
                "where materials sit (one RIP account against Materials + WIP).")
    return (f"Inventory differs: backflush {money(flushed, minor)}, sequential "
            f"{money(tracked, minor)} (difference {money(flushed - tracked, minor)}): cost "
            "that one method holds in stock and the other has expensed, or work in process "
            "sequential tracking carries; the accounts above show where.")


def write_run(path: Path, uow: UnitOfWork, *, as_json: bool,
              duplicates: Sequence[str] = ()) -> None:
    """A run's reports in a file: the ``--json`` document, or a workbook with a sheet each
    for the journal, the trial balance, stock and variances."""
    if as_json:
        from backflush.entrypoints.output.files import write_text

        doc = run_json(uow, [], duplicates)
        write_text(path, json.dumps(doc, indent=2, ensure_ascii=True) + "\n")
        return
    from backflush.entrypoints.output.xlsx import write_workbook

    write_workbook(path, [built.journal(uow), *tables_of(uow)])
