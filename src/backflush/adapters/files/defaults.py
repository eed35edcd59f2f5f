"""Defaults a scenario's events take from the events before them (the scenario format's
example writes ``{type: reversal, of: WO-7-C1, qty: 5}`` after a completion of order WO-7
that gives no id):

* a completion that names its ``order`` and gives no ``id`` is ``ORDER-C1``, ``ORDER-C2``...
  (the n-th completion of that order in the file);
* a reversal that gives no ``date`` is dated as the event before it in the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from backflush.adapters.files.loaders import LineDict


class Defaults:
    def __init__(self) -> None:
        self.completions: Counter[str] = Counter()  # completions per order, so far
        self.last: date | None = None  # the date of the last event read

    def of(self, raw: Any) -> Any:
        """``raw`` with the defaults it takes (as given when it takes none)."""
        if not isinstance(raw, Mapping):
            return raw
        kind, order = raw.get("type"), raw.get("order")
        added: dict[str, Any] = {}
        if kind == "completion" and isinstance(order, str) and order:
            self.completions[order] += 1
            if raw.get("id") is None:
                added["id"] = f"{order}-C{self.completions[order]}"
        if kind == "reversal" and raw.get("date") is None and self.last is not None:
            added["date"] = self.last
        if not added:
            return raw
        if not isinstance(raw, LineDict):
            return {**raw, **added}
        made = LineDict({**raw, **added}, line=raw.line)
        made.lines = dict(raw.lines)
        return made

    def read(self, when: date) -> None:
        self.last = when
