"""The suitability report (:mod:`backflush.service_layer.suitability`) as a
:class:`~.tables.Report` (``backflush report suitability``) and as plain data (the ``--json``
run document, the API)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from backflush.domain.numbers import fmt, fmt_qty
from backflush.entrypoints.output.safety import Cell, Number, shown
from backflush.entrypoints.output.tables import Column, Report, print_report
from backflush.service_layer.reports import ALL, Window
from backflush.service_layer.suitability import Suitability, Thresholds, suitability
from backflush.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from rich.console import Console

COLUMNS = (Column("check"), Column("subject"), Column("status"), Column("figure", "qty"),
           Column("threshold", "qty"), Column("unit"), Column("value at standard", "money"),
           Column("explanation"))


def _when(window: Window) -> str:
    if window.whole:
        return ""
    return f" {window.start or 'start'} to {window.end or 'end'}"


def suitability_report(uow: UnitOfWork, window: Window = ALL,
                       limits: Thresholds | None = None) -> Report:
    """One row per finding (status ``beyond``), and one per check with none (``within``:
    how many things it examined), so every check and threshold shows."""
    minor = uow.master.policy().minor_unit
    s = suitability(uow, window, limits)
    rows: list[list[Cell]] = []
    for c in s.checks:
        for f in c.findings:
            rows.append([c.label, f.subject or None, "beyond", Number(fmt_qty(f.figure)),
                         Number(fmt_qty(f.threshold)), f.unit,
                         None if f.value is None else Number(fmt(f.value, minor)),
                         f.explanation])
        if not c.findings:
            rows.append([c.label, None, "within",
                         None if c.figure is None else Number(fmt_qty(c.figure)),
                         Number(fmt_qty(c.threshold)), c.unit, None,
                         f"no finding ({c.examined} {c.what})"])
    found = len(s.findings)
    title = (f"Backflush suitability{_when(window)}"
             + (f", as of {s.as_of}" if s.as_of else "")
             + f": {found} finding{'' if found == 1 else 's'}; work in process not on the "
             f"books {fmt(s.work_in_process, minor)} at standard")
    return Report("suitability", title, COLUMNS, rows, None, minor)


def suitability_json(s: Suitability, minor: int) -> dict[str, Any]:
    """The report as data: decimals as strings, money with the currency's minor unit."""
    t = s.thresholds
    return {
        "as_of": s.as_of.isoformat() if s.as_of else None,
        "thresholds": {"min_turnover": fmt_qty(t.min_turnover),
                       "max_cycle_days": t.max_cycle_days,
                       "min_completions": t.min_completions,
                       "max_bom_versions": t.max_bom_versions,
                       "max_count_difference": fmt_qty(t.max_count_difference),
                       "max_scrap_rate": fmt_qty(t.max_scrap_rate)},
        "work_in_process_not_on_books": fmt(s.work_in_process, minor),
        "checks": [{"check": c.code, "label": c.label, "threshold": fmt_qty(c.threshold),
                    "unit": c.unit, "figure": None if c.figure is None else fmt_qty(c.figure),
                    "examined": c.examined, "examined_what": c.what,
                    "findings": len(c.findings)}
                   for c in s.checks],
        "findings": [{"check": f.check, "subject": f.subject, "figure": fmt_qty(f.figure),
                      "threshold": fmt_qty(f.threshold), "unit": f.unit,
                      "value": None if f.value is None else fmt(f.value, minor),
                      "explanation": f.explanation} for f in s.findings]}


def print_suitability(console: Console, report: Report) -> None:
    """The table without its explanations (a column too narrow to read them), then each
    finding's explanation under the number in its status (``#1``; ``ok``: the check found
    nothing, and says what it examined where the subject would be)."""
    rows: list[list[Cell]] = []
    notes: list[str] = []
    for row in report.rows:
        if row[2] == "beyond":
            notes.append(str(row[-1]))
            rows.append([row[0], row[1], f"#{len(notes)}", *row[3:-1]])
        else:
            rows.append([row[0], row[-1], "ok", *row[3:-1]])
    print_report(console, replace(report, columns=report.columns[:-1], rows=rows))
    for n, note in enumerate(notes, 1):
        console.print(f"#{n} {shown(note)}")
