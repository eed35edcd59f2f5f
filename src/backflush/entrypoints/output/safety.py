"""The one safety function for text that came from input, and the cells of exported tables.

Why each rule:

* **Control characters** (C0, DEL, C1, line/paragraph separators, bidirectional overrides,
  the byte-order mark) are replaced by a visible escape (``\\u001b``): an ANSI escape in an
  item code could otherwise recolour, clear or retitle the user's terminal, and a
  right-to-left override could make one code read as another.
* **Rich markup** is escaped (``[bold]`` prints as typed): Rich would otherwise interpret a
  code such as ``[link=file:///etc]X[/link]`` as markup.
* **CSV cells** starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
  leading single quote (the OWASP rule): a spreadsheet opening the file would otherwise run
  ``=cmd|' /C calc'!A0`` as a formula. Numbers the report computed are :class:`Number` and are
  written as they are (a negative amount starts with ``-``).
* **XLSX** text is written as a string cell, never a formula; see
  :mod:`backflush.entrypoints.output.reports`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# What may not reach a terminal or a spreadsheet raw: the same set the ledger refuses in codes
# (backflush.domain.text), so that a message quoting refused input shows it escaped too.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\ufeff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def shown(value: object, *, markup: bool = True) -> str:
    """``value`` as text that is safe to print: control characters made visible and, unless
    ``markup=False`` (CSV, XLSX, plain stdout), Rich markup escaped.

    Every text that came from input goes through here before it is shown or exported."""
    text = _UNSAFE.sub(_escaped, str(value))
    if not markup:
        return text
    from rich.markup import escape  # (here: `backflush --help` need not import Rich)

    return escape(text)


@dataclass(frozen=True, slots=True)
class Number:
    """A number the report computed, as canonical decimal text (``-1600.00``, ``200``).

    The only kind of cell exported without the formula escape, and the only one an XLSX
    file may hold as a number."""

    text: str

    def __str__(self) -> str:
        return self.text


Cell = str | Number | date | None  # a report's cell: text from the ledger, a number, a day


def csv_cell(cell: Cell) -> str:
    """A cell as CSV text: numbers as they are, text made safe and formula-escaped."""
    if cell is None:
        return ""
    if isinstance(cell, Number):
        return cell.text
    if isinstance(cell, date):
        return cell.isoformat()
    text = shown(cell, markup=False)
    if cell.startswith(FORMULA_START) or text.startswith(FORMULA_START):
        return "'" + text
    return text


def json_cell(cell: Cell) -> str | None:
    """A cell as a JSON string: numbers as their text (never a float), a day as ISO text,
    text as it is (the JSON encoder escapes every control character, and keeps the text
    lossless); an empty cell is null."""
    if cell is None:
        return None
    if isinstance(cell, date):
        return cell.isoformat()
    return cell.text if isinstance(cell, Number) else cell
