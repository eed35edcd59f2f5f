"""The stored ledger's reports (``backflush report``) as a table, CSV, JSON or XLSX.

A report is a header and rows of :data:`~.safety.Cell`: text from the ledger, or a
:class:`~.safety.Number` the report computed. Each format writes the two kinds as it must:

* **table** (Rich): text through :func:`shown`.
* **CSV**: text with control characters made visible and formula-escaped
  (:func:`~.safety.csv_cell`); numbers as canonical decimal text.
* **JSON**: a list of objects, every value a string (decimals never become floats).
* **XLSX**: text as string cells, never formulas (openpyxl would take any text starting
  with ``=`` as one), control characters made visible (openpyxl refuses them with
  ``IllegalCharacterError``); numbers as numbers when a spreadsheet holds them exactly (at
  most 15 significant digits), else as text.

A file is written beside its destination and renamed over it once complete, so a failure
never leaves half a report behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from backflush.domain.numbers import fmt, fmt_qty
from backflush.entrypoints.output.safety import Cell, Number, csv_cell, json_cell, shown
from backflush.service_layer import reports
from backflush.service_layer.unit_of_work import UnitOfWork

REPORTS = ("trial-balance", "stock", "variances", "journal")
FORMATS = ("table", "csv", "json", "xlsx")
EXACT_DIGITS = 15  # significant digits a spreadsheet's binary number keeps exactly

Rows = list[list[Cell]]


def _money(value: Decimal, minor: int) -> Number:
    return Number(fmt(value, minor))


def report_rows(uow: UnitOfWork, name: str) -> tuple[list[str], Rows]:
    """A report as a header and rows (read in the caller's transaction)."""
    policy = uow.master.policy()
    minor = policy.minor_unit
    if name == "trial-balance":
        return ["account", "debit", "credit"], [
            [a, _money(b, minor) if b > 0 else None, _money(-b, minor) if b < 0 else None]
            for a, b in reports.trial_balance(uow)]
    if name == "stock":
        return ["item", "location", "qty", "value", "account"], [
            [r.item, r.location, Number(fmt_qty(r.qty)), _money(r.value, minor), r.account]
            for r in reports.stock_report(uow)]
    if name == "variances":
        return ["family", "amount", "disposition"], [
            [k, _money(v, minor), policy.disposition[k].value]
            for k, v in reports.variance_report(uow).items()]
    return ["entry", "date", "event", "type", "description", "account", "debit", "credit",
            "memo"], [
        [Number(str(seq)), e.date.isoformat(), e.event_id, e.type, e.description,
         ln.account, _money(ln.debit, minor), _money(ln.credit, minor), ln.memo]
        for seq, e in reports.journal(uow) for ln in e.lines]


def print_table(console: Console, name: str, header: Sequence[str], rows: Rows) -> None:
    t = Table(title=name.replace("-", " ").capitalize(), title_justify="left")
    numeric = {"debit", "credit", "qty", "value", "amount", "entry"}
    for col in header:
        t.add_column(col, justify="right" if col in numeric else "left")
    for row in rows:
        t.add_row(*("" if c is None else c.text if isinstance(c, Number) else shown(c)
                    for c in row))
    console.print(t)


def csv_text(header: Sequence[str], rows: Rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def json_text(header: Sequence[str], rows: Rows) -> str:
    doc = [{col: json_cell(c) for col, c in zip(header, row, strict=True)} for row in rows]
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def xlsx_value(cell: Cell) -> tuple[Any, bool]:
    """The value of an XLSX cell, and whether it must be typed as a string."""
    if cell is None:
        return None, False
    if isinstance(cell, Number):
        number = Decimal(cell.text)
        if len(number.as_tuple().digits) <= EXACT_DIGITS:
            return number, False
        return cell.text, True
    return shown(cell, markup=False), True


def write_xlsx(path: Path, name: str, header: Sequence[str], rows: Rows) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING, WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=name[:31])

    def row_of(cells: Sequence[Cell]) -> list[Any]:
        out = []
        for cell in cells:
            value, text = xlsx_value(cell)
            c = WriteOnlyCell(ws, value=value)
            if text:
                c.data_type = TYPE_STRING  # never a formula, whatever the text starts with
            out.append(c)
        return out

    ws.append(row_of(list(header)))
    for row in rows:
        ws.append(row_of(row))
    _replace(path, lambda fh: wb.save(fh), binary=True)


def write_text(path: Path, text: str) -> None:
    _replace(path, lambda fh: fh.write(text), binary=False)


def _replace(path: Path, write: Callable[[IO[Any]], object], *, binary: bool) -> None:
    """Write a file beside ``path`` and rename it over ``path`` once complete."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        fh = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            write(fh)
        mask = os.umask(0)  # (mkstemp made it private: give it the mode a new file gets)
        os.umask(mask)
        os.chmod(temp, 0o666 & ~mask)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
