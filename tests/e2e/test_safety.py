"""Bad input never changes what a user's terminal or spreadsheet does: formulas exported as
text, control characters made visible, Rich markup printed as typed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from backflush.entrypoints.output.safety import Number, csv_cell, shown
from backflush.entrypoints.output.tables import Column, Report
from backflush.entrypoints.output.xlsx import write_workbook
from tests.e2e.support import doc, no_traceback, ok, process, write

FORMULA = "=cmd|' /C calc'!A0"
HOSTILE = f"""
format: 1
name: Hostile plant
currency: USD
items:
  - {{code: "{FORMULA}", standard_cost: 5.00}}
  - {{code: "+LEG", standard_cost: 1.00}}
  - {{code: "[bold red]STOOL[/]", conversion_cost: 6.00}}
boms:
  "[bold red]STOOL[/]":
    - {{item: "{FORMULA}", qty: 1}}
    - {{item: "+LEG", qty: 3}}
events:
  - {{type: receipt, date: 2026-11-02, item: "{FORMULA}", qty: 100, unit_price: 5.10,
     id: "=HYPERLINK(\\"http://evil\\")"}}
  - {{type: receipt, date: 2026-11-02, item: "+LEG", qty: 300, unit_price: 1.00,
     id: "@SUM(1+1)"}}
  - {{type: completion, date: 2026-11-20, item: "[bold red]STOOL[/]", qty: 90, id: "-WO-1"}}
"""


def hostile_ledger(tmp_path: Path) -> str:
    scenario = write(tmp_path / "hostile.yaml", HOSTILE)
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    ok("run", str(scenario), "--db", db)
    return db


def test_formulas_are_text_in_csv_and_xlsx(tmp_path: Path) -> None:
    db = hostile_ledger(tmp_path)
    texts = {FORMULA, "+LEG", '=HYPERLINK("http://evil")', "@SUM(1+1)", "-WO-1"}
    for report in ("stock", "journal"):
        out = ok("report", report, "--db", db, "--format", "csv")
        rows = list(csv.reader(io.StringIO(out.stdout)))
        cells = {c for row in rows[1:] for c in row}
        for text in texts & {c[1:] for c in cells if c.startswith("'")}:
            assert "'" + text in cells
        assert not any(c.startswith(("=", "+", "@")) for c in cells), cells
        assert not any(c.startswith("-") and not c[1:].replace(".", "").isdigit()
                       for c in cells), cells
        if report == "stock":
            assert "'" + FORMULA in cells and "'+LEG" in cells
        else:
            assert {"'" + '=HYPERLINK("http://evil")', "'@SUM(1+1)", "'-WO-1"} <= cells
            assert any(c.startswith("'" + FORMULA) for c in cells)  # a memo naming the item
        xlsx = tmp_path / f"{report}.xlsx"
        ok("report", report, "--db", db, "--format", "xlsx", "--output", str(xlsx))
        ws = load_workbook(xlsx).active
        assert ws is not None
        values = set()
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                values.add(cell.value)
        if report == "stock":
            assert FORMULA in values and "+LEG" in values
        else:
            assert {'=HYPERLINK("http://evil")', "@SUM(1+1)", "-WO-1"} <= values


def test_negative_amounts_stay_numbers(tmp_path: Path) -> None:
    db = hostile_ledger(tmp_path)
    out = ok("report", "trial-balance", "--db", db, "--format", "csv")
    assert "Accounts Payable,,810.00" in out.stdout
    rows = doc(ok("report", "journal", "--db", db, "--format", "json"))
    assert all(isinstance(r["debit"], str) or r["debit"] is None for r in rows)
    assert any(isinstance(r["debit"], str) for r in rows)
    xlsx = tmp_path / "tb.xlsx"
    ok("report", "trial-balance", "--db", db, "--format", "xlsx", "--output", str(xlsx))
    ws = load_workbook(xlsx).active
    assert ws is not None
    numbers = [c.value for row in ws.iter_rows(min_row=2) for c in row[1:] if c.value]
    assert numbers and all(isinstance(v, int | float) for v in numbers)


def test_cells_beyond_a_spreadsheets_precision_are_text_and_control_characters_visible(
        tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    write_workbook(path, [Report("journal", "Journal", (Column("account"),
                                                        Column("debit", "money")),
                                 [["\x1b[31mred\x07", Number("123456789012345678.25")],
                                  ["=1+1", Number("-12.50")]])])
    ws = load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0] == ("\\u001b[31mred\\u0007", "123456789012345678.25")
    assert rows[1][0] == "=1+1" and float(rows[1][1]) == -12.5  # type: ignore[arg-type]
    assert csv_cell("\tcmd") == "'\\u0009cmd" and csv_cell("\rx") == "'\\u000dx"
    assert csv_cell(Number("-5.00")) == "-5.00" and csv_cell("-5.00") == "'-5.00"


def test_markup_in_a_code_is_printed_as_typed(tmp_path: Path) -> None:
    scenario = write(tmp_path / "hostile.yaml", HOSTILE)
    out = ok("run", str(scenario))
    assert "[bold red]STOOL[/]" in out.stdout
    assert shown("[bold]x") == "\\[bold]x" and shown("[bold]x", markup=False) == "[bold]x"


def test_an_ansi_escape_in_an_item_code_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    scenario = write(tmp_path / "ansi.yaml", HOSTILE.replace("+LEG", "\\e[2J\\e]0;pwned\\a"))
    for args in (["run", str(scenario)], ["run", str(scenario), "--json"],
                 ["compare", str(scenario)]):
        out = process(*args)
        assert out.code == 2, out.output
        assert "\x1b" not in out.output and "\x07" not in out.output
        assert "\\u001b" in out.output
        no_traceback(out)
    db = f"sqlite:///{tmp_path / 'plant.db'}"
    ok("init", "--db", db, "--from", str(write(tmp_path / "ok.yaml", HOSTILE)))
    events = tmp_path / "ev\x1b[31m.csv"
    events.write_text("type,id,date,item,qty,unit_price\n"
                      "receipt,R\x1b[1m,2026-11-02,\x1b[2JSEAT,1,1.00\n")
    out = process("post", str(events), "--db", db)
    assert out.code == 2, out.output
    assert "\x1b" not in out.output and "\\u001b" in out.output
    no_traceback(out)
    d = json.loads(process("run", str(scenario), "--json").stdout)  # JSON escapes them itself
    assert d["errors"] and d["journal"] == []
