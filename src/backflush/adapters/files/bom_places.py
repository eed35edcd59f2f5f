"""Where in a scenario's ``boms`` a problem is: the entry it is reported under (``bom
STOOL@v1 line 2``) and the data there, for its line number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backflush.adapters.files.loaders import LineDict, line_of


def bom_version(spec: Any, line: int | None, j: int) -> tuple[int, Any]:
    """The number (as given, else ``j + 1``) and the data of a BOM's ``j``-th version."""
    if isinstance(spec, list):  # a plain list of lines: version 1
        return 1, LineDict({"lines": spec}, line=line_of(spec) or line)
    versions = spec.get("versions") if isinstance(spec, Mapping) else None
    node = versions[j] if isinstance(versions, list) and j < len(versions) else None
    number = node.get("version") if isinstance(node, Mapping) else None
    if isinstance(number, str) and number.isascii() and number.isdigit():
        number = int(number)
    return (number if isinstance(number, int) and not isinstance(number, bool)
            else j + 1), node


def bom_entry(code: str, spec: Any, line: int | None, loc: tuple[str | int, ...]
               ) -> tuple[str, tuple[str | int, ...], Any]:
    """``bom STOOL@v1 line 2`` (and the data there) for a location inside a BOM."""
    if len(loc) >= 2 and loc[0] == "versions" and isinstance(loc[1], int):
        number, node = bom_version(spec, line, loc[1])
        if len(loc) >= 4 and loc[2] == "lines" and isinstance(loc[3], int):
            lines = node.get("lines") if isinstance(node, Mapping) else None
            there = lines[loc[3]] if isinstance(lines, list) and loc[3] < len(lines) else node
            return f"bom {code}@v{number} line {loc[3] + 1}", loc[4:], there
        where = f"bom {code}@v1" if isinstance(spec, list) else f"bom {code} versions[{loc[1]}]"
        return where, loc[2:], node
    return f"bom {code}", loc, spec
