"""Master data of one plant, and its validation (every problem at once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from backflush.domain import inprocess
from backflush.domain.bom import Boms, check_acyclic
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.items import Item
from backflush.domain.kanban import Place, Supermarket, validate_kanban
from backflush.domain.routing import Operation, WorkCenter


@dataclass(frozen=True, slots=True)
class MasterData:
    """Items, BOMs, work centers and routings of one plant."""

    items: Mapping[str, Item]
    boms: Boms = field(default_factory=lambda: Boms({}))
    work_centers: Mapping[str, WorkCenter] = field(default_factory=dict)
    routings: Mapping[str, tuple[Operation, ...]] = field(default_factory=dict)
    kanban: Mapping[Place, Supermarket] = field(default_factory=dict)  # supermarket items

    def is_finished(self, code: str) -> bool:
        item = self.items[code]
        if item.finished is not None:
            return item.finished
        return item.made and not self.boms.parents_of(code)

    def with_item(self, item: Item) -> MasterData:
        items = dict(self.items)
        items[item.code] = item
        return replace(self, items=items)

    def with_work_center(self, center: WorkCenter) -> MasterData:
        centers = dict(self.work_centers)
        centers[center.code] = center
        return replace(self, work_centers=centers)


EMPTY = MasterData({})


def validate_master_data(master: MasterData, *, complete: bool = True) -> list[Problem]:
    """Every problem with the master data at once (the BOM cycle check comes after these).

    With ``complete=False``, made items still waiting for their BOM or conversion cost are
    not problems yet (master data imported file by file); posting needs them complete.
    """
    problems: list[Problem] = []
    items = master.items
    for code, item in sorted(items.items()):
        entry = f"item {code}"
        has_bom = master.boms.has(code)
        has_conv = item.conversion_cost is not None or bool(master.routings.get(code))
        if item.made:
            if item.standard_cost is not None:
                problems.append(Problem(entry, "standard_cost",
                                        "a made item's standard cost is rolled up from its "
                                        "BOM and routing; give conversion_cost instead"))
            if complete and not has_bom and not has_conv:
                problems.append(Problem(entry, "bom",
                                        "made item has neither a BOM nor a conversion cost "
                                        "(routing or conversion_cost)"))
            if complete and item.phantom and not has_bom:
                problems.append(Problem(entry, "phantom", "a phantom item needs a BOM"))
        else:
            if item.standard_cost is None:
                problems.append(Problem(entry, "standard_cost",
                                        "purchased item has no standard cost"))
            elif item.standard_cost < 0:
                problems.append(Problem(entry, "standard_cost", "must not be negative"))
            if item.phantom:
                problems.append(Problem(entry, "phantom", "a purchased item cannot be a phantom"))
            if item.conversion_cost is not None:
                problems.append(Problem(entry, "conversion_cost",
                                        "a purchased item has no conversion cost"))
        if item.conversion_cost is not None and item.conversion_cost < 0:
            problems.append(Problem(entry, "conversion_cost", "must not be negative"))
        if item.conversion_cost is not None and master.routings.get(code):
            problems.append(Problem(entry, "conversion_cost",
                                    "item has both a routing and an explicit conversion_cost; "
                                    "give one"))
    for parent, versions in sorted(master.boms.versions.items()):
        if parent not in items:
            problems.append(Problem(f"bom {parent}", None, f"unknown item '{parent}'"))
            continue
        if not items[parent].made:
            problems.append(Problem(f"bom {parent}", None,
                                    f"'{parent}' has a BOM but is a purchased item"))
        seen_versions: set[int] = set()
        for v in versions:
            if v.version in seen_versions:
                problems.append(Problem(f"bom {parent}", "version",
                                        f"version {v.version} appears twice"))
            seen_versions.add(v.version)
            if not v.lines:
                problems.append(Problem(f"bom {v.key}", "lines", "a BOM version has no lines"))
            if any(ln.manual for ln in v.lines) and len(parent) > inprocess.LONGEST_PARENT:
                problems.append(Problem(f"bom {v.key}", "flush", "a parent with lines issued "
                                        f"by hand has a code of at most "
                                        f"{inprocess.LONGEST_PARENT} characters (its "
                                        f"in-process location is {inprocess.PREFIX}CODE)"))
            for i, line in enumerate(v.lines):
                if line.component not in items:
                    problems.append(Problem(f"bom {v.key} line {i + 1}", "item",
                                            f"unknown item '{line.component}'"))
                elif line.component == parent:
                    problems.append(Problem(f"bom {v.key} line {i + 1}", "item",
                                            f"'{parent}' cannot be its own component"))
    for code, ops in sorted(master.routings.items()):
        if code not in items:
            problems.append(Problem(f"routing {code}", None, f"unknown item '{code}'"))
        elif not items[code].made:
            problems.append(Problem(f"routing {code}", None,
                                    f"'{code}' has a routing but is a purchased item"))
        seen_ops: set[int] = set()
        for op in ops:
            if op.operation in seen_ops:
                problems.append(Problem(f"routing {code} operation {op.operation}",
                                        "operation", "appears twice"))
            seen_ops.add(op.operation)
            if op.work_center not in master.work_centers:
                problems.append(Problem(f"routing {code} operation {op.operation}",
                                        "work_center",
                                        f"unknown work center '{op.work_center}'"))
    problems.extend(validate_kanban(master.kanban, items))
    return problems


def check_master_data(master: MasterData, *, complete: bool = True) -> None:
    problems = validate_master_data(master, complete=complete)
    if problems:
        raise ValidationError(problems)
    check_acyclic(master.boms)
