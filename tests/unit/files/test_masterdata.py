"""Master-data imports: the README's columns, every bad row reported with its line, nothing
returned when any row is bad."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from backflush.adapters.files import (
    read_boms,
    read_costs,
    read_items,
    read_routings,
    read_work_centers,
    scenario_from_text,
)
from backflush.domain.errors import ValidationError
from backflush.domain.events import CostChange
from backflush.domain.masterdata import EMPTY, MasterData

STOOL = scenario_from_text("""\
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
""").master


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip())
    return path


def problems(call: object, *args: object) -> list[str]:
    with pytest.raises(ValidationError) as err:
        call(*args)  # type: ignore[operator]
    return [str(p).split("/")[-1] for p in err.value.problems]


def test_items_with_their_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, """
code,uom,type,standard_cost,conversion_cost,phantom,finished,description
SEAT,ea,purchased,5.00,,,,Seat
STOOL,ea,made,,,,true,
KIT,ea,made,,,yes,,
GLUE,kg,,0.10,,,,
""")
    items = {i.code: i for i in read_items(path, EMPTY)}
    assert items["SEAT"].standard_cost == Decimal("5.00") and not items["SEAT"].made
    assert items["STOOL"].made and items["STOOL"].finished is True
    assert items["KIT"].phantom and items["KIT"].made and not items["GLUE"].made
    assert items["SEAT"].description == "Seat" and items["GLUE"].uom == "kg"


def test_an_item_is_made_when_the_master_data_has_its_bom(tmp_path: Path) -> None:
    (item,) = read_items(write(tmp_path, "code\nSTOOL\n"), STOOL)
    assert item.made


def test_bad_item_rows_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "code,standard_cost\nA,1.x\nB,2\nC,-3\nB,4\n")
    assert problems(read_items, path, EMPTY) == [
        "t.csv:2, item A, field 'standard_cost': '1.x' is not a decimal number",
        "t.csv:5, item B, field 'code': appears twice (first on line 3)",
        "t.csv:4, item C, field 'standard_cost': must not be negative"]
    assert problems(read_items, write(tmp_path, "code,uom,colour\nA,ea,red\n"), EMPTY) == [
        "t.csv:1, header, field 'colour': unknown column; expected backflush_from, code, "
        "conversion_cost, description, finished, negative_stock, phantom, standard_cost, "
        "type, uom"]
    assert problems(read_items, write(tmp_path, "uom\nea\n"), EMPTY) == [
        "t.csv:1, header, field 'code': missing column"]
    assert problems(read_items, write(tmp_path, "code,phantom\nA,maybe\n,\nB,yes,1\n"),
                    EMPTY) == [
        "t.csv:2, item A, field 'phantom': expected true or false, got 'maybe'",
        "t.csv:4, line 4: the row has 3 cells but the header has 2 columns"]


def test_items_from_xlsx(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "uom", "type", "standard_cost", "phantom"])
    sheet.append(["GLUE", "kg", "purchased", 2.35, False])
    sheet.append([10, "ea", "purchased", 1, 0])
    book.save(tmp_path / "items.xlsx")
    items = read_items(tmp_path / "items.xlsx", EMPTY)
    assert [(i.code, i.standard_cost, i.phantom) for i in items] == [
        ("GLUE", Decimal("2.35"), False), ("10", Decimal(1), False)]


def test_boms_grouped_by_parent_and_version(tmp_path: Path) -> None:
    path = write(tmp_path, """
parent,version,effective,component,qty,scrap
KIT,1,2026-01-01,LEG,3,0.02
STOOL,1,2026-01-01,SEAT,1,
STOOL,1,,KIT,1,
STOOL,2,2026-11-15,SEAT,2,
""")
    versions = {v.key: v for v in read_boms(path)}
    assert set(versions) == {"KIT@v1", "STOOL@v1", "STOOL@v2"}
    assert [(line.component, line.qty) for line in versions["STOOL@v1"].lines] == [
        ("SEAT", Decimal(1)), ("KIT", Decimal(1))]
    assert versions["KIT@v1"].lines[0].gross_qty == Decimal("3.06")
    assert versions["STOOL@v2"].effective_from == date(2026, 11, 15)
    bad = write(tmp_path, """
parent,version,effective,component,qty,scrap
STOOL,1,2026-01-01,SEAT,1,
STOOL,1,2026-02-01,LEG,0,
STOOL,x,2026-01-01,LEG,1,1.5
""")
    assert problems(read_boms, bad) == [
        "t.csv:3, bom STOOL@v1 line 2, field 'effective': differs from the version's first "
        "row (line 2: 2026-01-01)",
        "t.csv:3, bom STOOL@v1 line 2, field 'qty': must be positive",
        "t.csv:4, bom STOOL, field 'version': expected a whole number, got 'x'"]


def test_routings_and_work_centers(tmp_path: Path) -> None:
    routings = read_routings(write(tmp_path, """
item,operation,work_center,run_hours,setup_hours,lot_size
STOOL,10,ASSY,0.1,,
STOOL,20,PACK,0.05,0.5,50
"""))
    ops = routings["STOOL"]
    assert [op.operation for op in ops] == [10, 20]
    assert ops[1].hours_per_unit == Decimal("0.06")
    assert problems(read_routings, write(tmp_path, """
item,operation,work_center,run_hours
STOOL,10,ASSY,-1
STOOL,ten,ASSY,1
""")) == ["t.csv:2, routing STOOL operation 10, field 'run_hours': must not be negative",
          "t.csv:3, routing STOOL, field 'operation': expected a whole number, got 'ten'"]
    wcs = read_work_centers(write(tmp_path, "code,rate,labor_rate,overhead_rate\n"
                                            "ASSY,,20,40\nPACK,36,,\n"))
    assert [(w.code, w.labor_rate, w.overhead_rate, w.conversion_rate) for w in wcs] == [
        ("ASSY", Decimal(20), Decimal(40), Decimal(0)), ("PACK", Decimal(0), Decimal(0),
                                                         Decimal(36))]
    assert problems(read_work_centers, write(tmp_path, "code,rate\nW1,fast\nW2,\nW1,3\n")) == [
        "t.csv:2, work center W1, field 'rate': 'fast' is not a decimal number",
        "t.csv:3, work center W2, field 'rate': give rate, or labor_rate and overhead_rate, "
        "or a budget"]
    assert problems(read_work_centers, write(tmp_path, "code,budget\nW1,5\n")) == [
        "t.csv:1, header, field 'budget': unknown column; expected code, description, "
        "labor_rate, overhead_rate, rate"]


def test_cost_changes(tmp_path: Path) -> None:
    changes = read_costs(write(tmp_path, "item,standard_cost,conversion_cost,date,id\n"
                                         "LEG,1.10,,2026-11-05,\nSTOOL,,7,,CC-9\n"),
                         STOOL, date(2026, 11, 1), "import")
    assert changes == [
        CostChange(id="import:LEG", date=date(2026, 11, 5), item="LEG",
                   standard_cost=Decimal("1.10")),
        CostChange(id="CC-9", date=date(2026, 11, 1), item="STOOL",
                   conversion_cost=Decimal(7))]
    assert problems(read_costs, write(tmp_path, "item,standard_cost,conversion_cost\n"
                                                "NOPE,1,\nSTOOL,1,\nSEAT,,\nLEG,-1,\n"),
                    STOOL, date(2026, 11, 1), "import") == [
        "t.csv:2, item NOPE, field 'item': unknown item 'NOPE'",
        "t.csv:3, item STOOL, field 'standard_cost': 'STOOL' is made: give conversion_cost",
        "t.csv:4, item SEAT, field 'standard_cost': is required",
        "t.csv:5, item LEG, field 'standard_cost': must not be negative, got -1"]


def test_master_data_from_imports_joins_up(tmp_path: Path) -> None:
    items = read_items(write(tmp_path, "code,type,standard_cost\nSEAT,purchased,5\n"
                                       "STOOL,made,\n", "i.csv"), EMPTY)
    boms = read_boms(write(tmp_path, "parent,component,qty\nSTOOL,SEAT,1\n", "b.csv"))
    master = MasterData({i.code: i for i in items})
    from backflush.domain.bom import Boms
    from backflush.domain.masterdata import validate_master_data
    assert validate_master_data(MasterData(master.items, Boms.of(boms))) == []
