"""What the CLI prints and writes: Rich tables and messages, JSON documents, CSV and XLSX.

Everything shown here may hold text that came from a user's files (codes, ids, descriptions,
memos, and messages quoting them), so every such text goes through :func:`shown` before it
reaches a terminal, a CSV cell or a spreadsheet: bad input must never change what a user's
terminal or spreadsheet *does*. Numbers the reports compute are :class:`Number` cells, the
one kind of cell written as it is.
"""

from backflush.entrypoints.output.safety import Number, shown

__all__ = ["Number", "shown"]
