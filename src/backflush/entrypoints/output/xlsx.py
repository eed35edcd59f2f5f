"""Reports as an XLSX workbook an accountant can hand on (openpyxl, write-only: memory stays
flat for a journal of a million lines).

* One sheet per report, named after it; the header row bold on grey, frozen; each column as
  wide as its contents (up to 60 characters); a bold total row under a rule where the report
  has one.
* Money as numbers in the currency's decimals (``#,##0.00``), quantities with as many
  decimals as they have, entry numbers as whole numbers, days as dates (``yyyy-mm-dd``).
* A number a spreadsheet cannot hold exactly (more than 15 significant digits) is written as
  text, every digit kept, rather than rounded silently.
* Text is always a string cell, never a formula (openpyxl would take any text starting with
  ``=`` as one), control characters made visible (openpyxl refuses them).

The file is written beside its destination and renamed over it once complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from backflush.entrypoints.output.files import replace
from backflush.entrypoints.output.safety import Cell, Number, shown
from backflush.entrypoints.output.tables import Column, Report, widths

EXACT_DIGITS = 15  # significant digits a spreadsheet's binary number keeps exactly


def number_format(cell: Number, column: Column, minor: int) -> str:
    if column.kind == "int":
        return "0"
    places = minor if column.kind == "money" else len(cell.text.partition(".")[2])
    return "#,##0" + ("." + "0" * places if places else "")


def value_of(cell: Cell, column: Column, minor: int) -> tuple[Any, str | None, bool]:
    """The cell's value, its number format, and whether it must be typed as a string."""
    if cell is None:
        return None, None, False
    if isinstance(cell, date):
        return cell, "yyyy-mm-dd", False
    if isinstance(cell, Number):
        number = Decimal(cell.text)
        if len(number.as_tuple().digits) > EXACT_DIGITS:
            return cell.text, None, True
        value: Any = int(number) if column.kind == "int" else number
        return value, number_format(cell, column, minor), False
    return shown(cell, markup=False), None, True


def _row(ws: Any, report: Report, row: Sequence[Cell], total: Any = None) -> list[Any]:
    """The write-only cells of one row (``total``: the total row's font and border)."""
    from openpyxl.cell.cell import TYPE_STRING, WriteOnlyCell

    out = []
    for cell, column in zip(row, report.columns, strict=True):
        value, fmt, text = value_of(cell, column, report.minor)
        c = WriteOnlyCell(ws, value=value)
        if text:
            c.data_type = TYPE_STRING  # never a formula, whatever the text starts with
        if fmt:
            c.number_format = fmt
        if total is not None:
            c.font, c.border = total
        out.append(c)
    return out


def write_workbook(path: Path, reports: Sequence[Report],
                   decorate: Callable[[Any, Report], None] | None = None) -> None:
    """``decorate(sheet, report)``, when given, adds to each sheet once its rows are in
    (the close pack's charts)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING, WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="DDDDDD")
    under = Border(bottom=Side(style="thin"))
    over = Border(top=Side(style="thin"))
    right = Alignment(horizontal="right")
    wb = Workbook(write_only=True)
    for report in reports:
        ws = wb.create_sheet(title=report.name[:31])
        ws.freeze_panes = "A2"
        for i, width in enumerate(widths(report), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width + 2
        header = []
        for column in report.columns:
            c = WriteOnlyCell(ws, value=column.name)
            c.data_type = TYPE_STRING
            c.font, c.fill, c.border = bold, grey, under
            if column.numeric:
                c.alignment = right
            header.append(c)
        ws.append(header)
        for row in report.rows:
            ws.append(_row(ws, report, row))
        if report.total is not None:
            ws.append(_row(ws, report, report.total, (bold, over)))
        if decorate is not None:
            decorate(ws, report)
    replace(path, lambda fh: wb.save(fh), binary=True)
