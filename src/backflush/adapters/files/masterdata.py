"""Master-data imports from CSV or XLSX: items, BOMs, routings, work centers, cost changes.

Each file has a header row (line 1) with the columns the README lists; every row is checked
(by the same models the scenario reader uses) before anything is returned, and every bad row
is reported with its line: a file with any bad row returns nothing. Items are also checked
with the master data they join, by the domain's own ``validate_master_data`` (file by file:
a made item may still wait for its BOM).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from backflush.adapters.files import tables
from backflush.adapters.files.kanban_rows import KanbanRow
from backflush.adapters.files.limits import (
    MAX_TABLE_BYTES,
    Invalid,
    Issue,
    Problems,
    as_code,
    domain_issue,
    refuse,
    too_big,
)
from backflush.adapters.files.loaders import LineDict
from backflush.adapters.files.schemas import (
    BomLineRow,
    ItemRow,
    OperationRow,
    WorkCenterRow,
    validate,
)
from backflush.adapters.files.table_rows import BomTableRow, CostRow, RoutingTableRow
from backflush.domain import events as ev
from backflush.domain.bom import BomLine, BomVersion
from backflush.domain.errors import NumberError, Problem
from backflush.domain.events import CostChange
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData, validate_master_data
from backflush.domain.routing import Operation, WorkCenter

FIRST_DAY = date(1900, 1, 1)
COLUMNS: dict[str, tuple[tuple[str, ...], list[str]]] = {  # kind -> (required, allowed)
    "items": (("code",), ItemRow.accepted()),
    "boms": (("parent", "component", "qty"), BomTableRow.accepted()),
    "routings": (("item", "operation", "work_center"), RoutingTableRow.accepted()),
    "work-centers": (("code",), ["code", "description", "labor_rate", "overhead_rate",
                                 "rate"]),
    "kanban": (("item", "location", "container_qty"), KanbanRow.accepted()),
    "costs": (("item",), CostRow.accepted()),
}
BOOLEANS = frozenset({"phantom", "finished"})


class _Import:
    """One import file: its rows as mappings, and the problems found."""

    def __init__(self, path: Path, kind: str) -> None:
        self.source = str(path)
        self.problems = Problems()
        if path.suffix.lower() == ".csv":
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise refuse("file", f"cannot read: {exc.strerror or exc}",
                             self.source) from None
            problem = too_big(size, MAX_TABLE_BYTES, "an import file")
            if problem is not None:
                raise refuse("file", problem, self.source)
        self.table = tables.open_table(path)
        required, allowed = COLUMNS[kind]
        self.problems.extend(self.table.header_problems(allowed, required))
        if self.problems:
            self.table.close()
            raise self.problems.error()

    def rows(self) -> Iterator[tuple[int, LineDict, list[Issue]]]:
        width = len(self.table.header)
        for line, values in tables.all_rows(self.table):
            if len(values) > width:
                self.add(f"line {line}", None, f"the row has {len(values)} cells but the "
                         f"header has {width} columns", line)
                continue
            raw, issues = tables.mapping(self.table.header, values, line, BOOLEANS)
            yield line, raw, issues

    def add(self, entry: str, field: str | None, message: str, line: int | None) -> None:
        self.problems.add(Problem(entry, field, message, self.source, line))

    def place(self, issues: Sequence[Issue], entry: str, line: int | None,
              rename: dict[str, str] | None = None) -> None:
        for issue in issues:
            field = issue.field
            if rename and field in rename:
                field = rename[field]
            self.add(entry, field, issue.message, line)

    def parse(self, model: Any, raw: LineDict, entry: str, line: int,
              issues: Sequence[Issue]) -> Any:
        """The row as ``model``, or None when it has problems (placed)."""
        try:
            row = validate(model, raw)
        except Invalid as exc:
            self.place([*issues, *exc.issues], entry, line)
            return None
        if issues:
            self.place(issues, entry, line)
            return None
        return row


def _entry(raw: LineDict, key: str, label: str, line: int) -> str:
    code = as_code(raw.get(key))
    return f"{label} {code}" if code is not None else f"line {line}"


def read_items(path: Path, master: MasterData) -> list[Item]:
    """Items from a table (code, uom, type, standard_cost, conversion_cost, phantom,
    finished, description), checked with ``master`` they join."""
    imp = _Import(Path(path), "items")
    items: dict[str, tuple[Item, int]] = {}
    for line, raw, issues in imp.rows():
        entry = _entry(raw, "code", "item", line)
        row = imp.parse(ItemRow, raw, entry, line, issues)
        if row is None:
            continue
        try:
            item = row.to_domain(has_bom=master.boms.has(row.code),
                                 has_routing=bool(master.routings.get(row.code)))
        except Invalid as exc:
            imp.place(exc.issues, entry, line)
            continue
        if item.code in items:
            imp.add(entry, "code", f"appears twice (first on line {items[item.code][1]})",
                    line)
            continue
        items[item.code] = (item, line)
    rows_ok = not imp.problems
    merged = replace(master, items={**master.items, **{c: it for c, (it, _) in items.items()}})
    for p in validate_master_data(merged, complete=False):
        code = p.entry.removeprefix("item ")
        mine = p.entry.startswith("item ") and code in items
        if mine or rows_ok:  # with bad rows, only what the good ones say of themselves
            imp.add(p.entry, p.field, p.message, items[code][1] if mine else None)
    imp.problems.raise_if_any()
    return [item for item, _ in items.values()]


def read_boms(path: Path) -> list[BomVersion]:
    """BOM versions from a table (parent, version, effective, component, qty, scrap): the
    rows of one parent and version are its lines, in order."""
    imp = _Import(Path(path), "boms")
    grouped: dict[tuple[str, int], tuple[date, list[BomLine], int]] = {}
    for line, raw, issues in imp.rows():
        entry = _entry(raw, "parent", "bom", line)
        row = imp.parse(BomTableRow, raw, entry, line, issues)
        if row is None:
            continue
        version = row.version or 1
        effective = row.effective or FIRST_DAY
        first = grouped.setdefault((row.parent, version), (effective, [], line))
        entry = f"bom {row.parent}@v{version} line {len(first[1]) + 1}"
        if row.effective is not None and row.effective != first[0]:
            imp.add(entry, "effective", f"differs from the version's first row (line "
                    f"{first[2]}: {first[0]})", line)
        try:
            first[1].append(BomLineRow(item=row.component, qty=row.qty, scrap=row.scrap,
                                       flush=row.flush).to_domain())
        except Invalid as exc:
            imp.place(exc.issues, entry, line, {"item": "component"})
    out = []
    for (parent, version), (effective, lines, line) in grouped.items():
        try:
            out.append(BomVersion(parent, version, effective, tuple(lines)))
        except NumberError as exc:
            imp.place([domain_issue(exc, ["version"])], f"bom {parent}", line)
    imp.problems.raise_if_any()
    return out


def read_routings(path: Path) -> dict[str, tuple[Operation, ...]]:
    """Routings from a table (item, operation, work_center, run_hours, setup_hours,
    lot_size): the rows of one item are its operations, in order."""
    imp = _Import(Path(path), "routings")
    out: dict[str, list[Operation]] = {}
    for line, raw, issues in imp.rows():
        entry = _entry(raw, "item", "routing", line)
        row = imp.parse(RoutingTableRow, raw, entry, line, issues)
        if row is None:
            continue
        entry = f"routing {row.item} operation {row.operation}"
        step = OperationRow(operation=row.operation, work_center=row.work_center,
                            run_hours=row.run_hours, setup_hours=row.setup_hours,
                            lot_size=row.lot_size, description=row.description)
        try:
            out.setdefault(row.item, []).append(step.to_domain(row.operation))
        except Invalid as exc:
            imp.place(exc.issues, entry, line)
    imp.problems.raise_if_any()
    return {item: tuple(ops) for item, ops in out.items()}


def _read_keyed(path: Path, kind: str, model: Any, key: str, label: str,
                keyed: Callable[[Any], Hashable], field: str) -> list[Any]:
    """The records of a table of ``model`` rows, each once by ``keyed`` (a row repeating
    one is a problem on its ``field``)."""
    imp = _Import(Path(path), kind)
    out: dict[Hashable, tuple[Any, int]] = {}
    for line, raw, issues in imp.rows():
        entry = _entry(raw, key, label, line)
        row = imp.parse(model, raw, entry, line, issues)
        if row is None:
            continue
        try:
            made = row.to_domain()
        except Invalid as exc:
            imp.place(exc.issues, entry, line)
            continue
        if keyed(made) in out:
            imp.add(entry, field, f"appears twice (first on line {out[keyed(made)][1]})",
                    line)
            continue
        out[keyed(made)] = (made, line)
    imp.problems.raise_if_any()
    return [made for made, _ in out.values()]


def read_kanban(path: Path) -> list[Supermarket]:
    """Supermarket items from a table (item, location, container_qty, lead_time_days,
    safety)."""
    return _read_keyed(path, "kanban", KanbanRow, "item", "kanban",
                       lambda sm: sm.place, "location")


def read_work_centers(path: Path) -> list[WorkCenter]:
    """Work centers from a table (code, rate or labor_rate and overhead_rate)."""
    return _read_keyed(path, "work-centers", WorkCenterRow, "code", "work center",
                       lambda wc: wc.code, "code")


def read_costs(path: Path, master: MasterData, when: date, tag: str) -> list[CostChange]:
    """Cost changes from a table (item, standard_cost for a purchased item or
    conversion_cost for a made one, date (default ``when``), id (default ``TAG:ITEM``))."""
    imp = _Import(Path(path), "costs")
    out = []
    for line, raw, issues in imp.rows():
        entry = _entry(raw, "item", "item", line)
        row = imp.parse(CostRow, raw, entry, line, issues)
        if row is None:
            continue
        item = master.items.get(row.item)
        if item is None:
            imp.add(entry, "item", f"unknown item '{row.item}'", line)
            continue
        field, other = ("conversion_cost", "standard_cost") if item.made else \
            ("standard_cost", "conversion_cost")
        if getattr(row, other) is not None:
            imp.add(entry, other, f"'{row.item}' is {'made' if item.made else 'purchased'}: "
                    f"give {field}", line)
            continue
        value = getattr(row, field)
        if value is None:
            imp.add(entry, field, "is required", line)
            continue
        try:
            out.append(CostChange(id=row.id or f"{tag}:{row.item}", date=row.date or when,
                                  item=row.item, **{field: value}))
        except NumberError as exc:
            imp.place([domain_issue(exc, CostRow.accepted())], entry, line)
    imp.problems.raise_if_any()
    return out


def reference_issues(event: ev.Event, master: MasterData) -> list[Issue]:
    """What an event says about master data that master data does not bear out: an unknown
    item or work center, a phantom stocked, a purchased item completed, a made one received."""
    out = []
    code = getattr(event, "item", None)
    if isinstance(code, str):
        item = master.items.get(code)
        made = {"completion": True, "release": True, "receipt": False}.get(event.type)
        if item is None:
            out.append(Issue(("item",), f"unknown item '{code}'"))
        elif item.phantom and event.type != "cost_change":
            out.append(Issue(("item",), f"'{code}' is a phantom: it is never stocked"))
        elif made is True and not item.made:
            out.append(Issue(("item",), f"'{code}' is a purchased item, not a made one"))
        elif made is False and item.made:
            out.append(Issue(("item",), f"'{code}' is a made item; report a completion"))
    if isinstance(event, ev.Completion):
        for wc, _ in event.hours:
            if wc not in master.work_centers:
                out.append(Issue((f"hours.{wc}",), f"unknown work center '{wc}'"))
    if isinstance(event, ev.Issue) and event.parent not in master.items:  # ``for``
        out.append(Issue(("for",), f"unknown item '{event.parent}'"))
    return out


IMPORT_KINDS = ("items", "boms", "routings", "work-centers", "kanban", "costs")


def read_import(kind: str, path: Path, master: MasterData, when: date
                ) -> tuple[dict[str, Any], list[CostChange]]:
    """An import file of ``kind`` (one of :data:`IMPORT_KINDS`): the master records, as
    ``import_master`` takes them, or (costs) the cost changes to post."""
    if kind == "items":
        return {"items": read_items(path, master)}, []
    if kind == "boms":
        return {"boms": read_boms(path)}, []
    if kind == "routings":
        return {"routings": read_routings(path)}, []
    if kind == "work-centers":
        return {"work_centers": read_work_centers(path)}, []
    if kind == "kanban":
        return {"kanban": read_kanban(path)}, []
    return {}, read_costs(path, master, when, f"costs:{path.name}")

