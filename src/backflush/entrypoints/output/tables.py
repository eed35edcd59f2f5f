"""One shape for every report a command prints or writes, and its four renderings.

A :class:`Report` is a title, typed :class:`Column` s, rows of :data:`~.safety.Cell` and an
optional total row. Every command that shows a report (``report``, ``run``, ``demo``) builds
one and hands it to the format asked for, so the same figures look the same everywhere:

* **table** (Rich): amounts with thousands separators and the currency's decimals, right
  aligned, never cut or wrapped (a number column is as wide as its widest value; names and
  memos wrap instead); the total row under a rule.
* **CSV**: canonical decimal text (``-1600.00``), text formula-escaped; the rows only.
* **JSON**: a list of objects, decimals as strings; the rows only.
* **XLSX**: see :mod:`.xlsx`.

An empty cell (no credit on a debit line, no BOM on a receipt) is empty in every format:
nothing in a table, an empty field in CSV, ``null`` in JSON, a blank cell in XLSX.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from backflush.entrypoints.output.safety import Cell, Number, csv_cell, json_cell, shown

if TYPE_CHECKING:  # (Rich is imported by the functions that draw)
    from rich.console import Console
    from rich.table import Table

Kind = Literal["text", "money", "qty", "int", "date"]
NUMERIC: frozenset[str] = frozenset({"money", "qty", "int"})


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Report:
    """``name`` is the report's key (``trial-balance``): the XLSX sheet's name."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Cell]]
    total: list[Cell] | None = None
    minor: int = 2  # decimals of the currency: how money is shown

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def grouped(text: str, minor: int) -> str:
    """An amount's canonical text as a person reads it: thousands separated (``1,600.00``)."""
    return f"{Decimal(text):,.{minor}f}"


def display(cell: Cell, column: Column, minor: int) -> str:
    """A cell as a table shows it: amounts separated by thousands, text made safe."""
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, Number):
        if column.kind == "money":
            return grouped(cell.text, minor)
        if column.kind == "qty":
            whole, dot, frac = cell.text.partition(".")
            digits = whole.removeprefix("-")  # (the sign kept apart: -0.5 is not 0.5)
            return (f"{whole[:len(whole) - len(digits)]}{int(digits):,}{dot}{frac}"
                    if digits.isdigit() else cell.text)
        return cell.text
    return shown(cell)


def rich_table(report: Report) -> Table:
    """The report as a Rich table: number columns never narrower than their widest cell;
    text columns wrap between words, and split a word only when the table would not fit
    otherwise."""
    from rich.table import Table

    rows = [[display(c, col, report.minor) for c, col in zip(row, report.columns, strict=True)]
            for row in report.rows]
    total = None if report.total is None else [
        display(c, col, report.minor) for c, col in zip(report.total, report.columns,
                                                        strict=True)]
    table = Table(title=shown(report.title), title_justify="left")
    for i, col in enumerate(report.columns):
        if col.numeric or col.kind == "date":
            cells = [r[i] for r in rows] + ([total[i]] if total else [])
            width = max([len(col.name), *(len(c) for c in cells)])
            table.add_column(col.name, justify="right" if col.numeric else "left",
                             no_wrap=True, min_width=width)
        else:
            table.add_column(col.name, overflow="fold")
    for n, row in enumerate(rows):
        table.add_row(*row, end_section=total is not None and n == len(rows) - 1)
    if total is not None:
        table.add_row(*total, style="bold")
    return table


def print_report(console: Console, report: Report) -> None:
    console.print(rich_table(report))


def csv_text(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(report.header)
    writer.writerows([csv_cell(c) for c in row] for row in report.rows)
    return buffer.getvalue()


def json_rows(report: Report) -> list[dict[str, str | None]]:
    return [{col: json_cell(c) for col, c in zip(report.header, row, strict=True)}
            for row in report.rows]


def json_text(report: Report) -> str:
    return json.dumps(json_rows(report), indent=2, ensure_ascii=True) + "\n"


def widths(report: Report, cap: int = 60) -> list[int]:
    """Each column's width in characters, as a table or a spreadsheet shows it."""
    lines = [*report.rows, *([report.total] if report.total else [])]
    return [min(cap, max([len(col.name), *(len(display(r[i], col, report.minor))
                                            for r in lines)]))
            for i, col in enumerate(report.columns)]

