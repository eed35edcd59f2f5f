"""The BOM accuracy report as the entrypoints show it: a :class:`~.tables.Report` (``backflush
report bom-accuracy``, CSV, JSON, XLSX), the rows of ``bom_accuracy`` in the ``--json``
document and the API, and the lines the run summary prints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from backflush.domain.accuracy import LineAccuracy
from backflush.domain.numbers import fmt_qty
from backflush.entrypoints.output.safety import Cell, Number
from backflush.entrypoints.output.tables import Column, Report
from backflush.service_layer.accuracy import AccuracyReport, bom_accuracy
from backflush.service_layer.reports import ALL, Window
from backflush.service_layer.unit_of_work import UnitOfWork


def _text(value: Decimal | None) -> str | None:
    return None if value is None else fmt_qty(value)


def _num(value: Decimal | None) -> Number | None:
    return None if value is None else Number(fmt_qty(value))


def line_json(a: LineAccuracy) -> dict[str, Any]:
    """One BOM line: the shape of scenario-format.md's ``bom_accuracy``, and what explains it."""
    ln = a.line
    return {"parent": ln.parent, "component": ln.component, "bom_version": ln.version,
            "qty_per": fmt_qty(ln.qty_per), "estimated_qty_per": _text(a.estimated),
            "flagged": a.flagged, "location": a.location, "bom": ln.bom,
            "scrap": fmt_qty(ln.scrap), "standard_usage": fmt_qty(ln.standard),
            "suggested_qty_per": _text(a.suggested), "deviation": _text(a.deviation),
            "residual_rms": _text(a.residual_rms), "intervals": a.intervals,
            "intervals_with_units": a.with_units, "units": fmt_qty(a.units),
            "finding": a.finding, "cause": a.cause or None, "note": a.note}


def accuracy_json(found: AccuracyReport) -> list[dict[str, Any]]:
    return [line_json(a) for a in found.lines]


def unexplained_json(found: AccuracyReport) -> list[dict[str, Any]]:
    return [{"item": u.item, "location": u.location, "intervals": u.intervals,
             "consumed": fmt_qty(u.consumed), "note": u.note} for u in found.unexplained]


def _when(window: Window) -> str:
    if window.whole:
        return "the whole ledger"
    return f"{window.start or 'the start'} to {window.end or 'now'}"


def accuracy_report(uow: UnitOfWork, window: Window = ALL,
                    tolerance: Decimal | None = None) -> Report:
    found = bom_accuracy(uow, window, tolerance)
    rows: list[list[Cell]] = []
    for a in found.lines:
        ln = a.line
        finding = a.finding.replace("_", " ") + (" (flagged)" if a.flagged else "")
        why = (a.cause.replace("_", " ") + ": " if a.cause else "") + a.note
        rows.append([f"{ln.bom} -> {ln.component}", a.location, Number(fmt_qty(ln.qty_per)),
                     Number(fmt_qty(ln.standard)), _num(a.estimated), _num(a.suggested),
                     _num(a.deviation), _num(a.residual_rms), Number(str(a.intervals)),
                     finding, why or None])
    for u in found.unexplained:
        rows.append([f"(no BOM line) -> {u.item}", u.location, None, None, None, None, None,
                     None, Number(str(u.intervals)), "unexplained (flagged)", u.note])
    flagged = len(found.flagged) + len(found.unexplained)
    title = (f"BOM accuracy from counts over {_when(found.window)}: {flagged} flagged of "
             f"{len(found.lines)} lines (tolerance {fmt_qty(found.tolerance * 100)}% of the "
             "standard usage, std = qty per x (1 + scrap); usage per unit of the parent "
             "estimated by least squares over n count intervals; dev = (estimated - std) / "
             "std; RMS: the fit's residual per interval)")
    return Report("bom-accuracy", title, (
        Column("BOM line"), Column("at"), Column("qty per", "qty"), Column("std", "qty"),
        Column("estimated", "qty"), Column("suggested", "qty"), Column("dev", "qty"),
        Column("RMS", "qty"), Column("n", "int"), Column("finding"), Column("why")),
        rows, None, 2)


def summary_lines(found: AccuracyReport) -> list[str]:
    """What a run prints of it: each flagged line and each unexplained loss, in words."""
    out = []
    for a in found.flagged:
        ln = a.line
        out.append(f"BOM line {ln.bom} -> {ln.component} at {a.location}: "
                   f"{a.finding.replace('_', '-')}: {fmt_qty(a.estimated or Decimal(0))} used "
                   f"per unit against {fmt_qty(ln.standard)} standard over {a.intervals} "
                   f"count interval(s); qty per {fmt_qty(ln.qty_per)} would be about "
                   f"{fmt_qty(a.suggested or Decimal(0))}" + (f" ({a.note})" if a.note else ""))
    out += [u.note for u in found.unexplained]
    return out
