"""The kept ledger through the CLI: init, import, post, close, report, explain, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from backflush.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[1]
STOOL = ROOT / "examples" / "stool.yaml"
runner = CliRunner()


def bf(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def flat(text: str) -> str:
    return " ".join(text.split())


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.fixture
def ledger(db_url: str, tmp_path: Path) -> str:
    """A ledger with the stool plant's master data, no events yet."""
    code, out = bf("init", "--db", db_url, "--from", str(STOOL))
    assert code == 0, out
    return db_url


def tb(db: str) -> dict[str, str]:
    code, out = bf("report", "trial-balance", "--db", db, "--format", "json")
    assert code == 0, out
    return {r["account"]: r["debit"] or "-" + r["credit"] for r in json.loads(out)}


def test_post_is_idempotent_and_keeps_the_books(ledger: str) -> None:
    code, out = bf("post", str(STOOL), "--db", ledger)
    assert code == 0 and "Posted 6 events" in out
    code, out = bf("post", str(STOOL), "--db", ledger)
    assert code == 0 and "Posted 0 events" in out and "6 duplicates skipped" in flat(out)
    assert tb(ledger) == {"Raw and In-Process Inventory": "1600.00",
                          "Finished Goods Inventory": "4200.00",
                          "Cost of Goods Sold": "136700.00", "Accounts Payable": "-81000.00",
                          "Wages and Other Accounts": "-61500.00"}
    code, out = bf("verify", "--db", ledger)
    assert code == 0 and "Ledger verified" in out


def test_post_csv_and_jsonl(ledger: str, tmp_path: Path) -> None:
    csv_file = write(tmp_path / "ev.csv", """
type,id,date,item,qty,unit_price,hours
receipt,PO-1,2026-11-02,SEAT,100,5.10,
receipt,PO-2,2026-11-02,LEG,300,1.00,
""")
    jsonl = write(tmp_path / "ev.jsonl", """
{"type": "completion", "id": "WO-1", "date": "2026-11-03", "item": "STOOL", "qty": "10"}
{"type": "sale", "id": "SO-1", "date": "2026-11-04", "item": "STOOL", "qty": 4, "unit_price": 25.5}
""")
    assert bf("post", str(csv_file), "--db", ledger)[0] == 0
    code, out = bf("post", str(jsonl), "--db", ledger)
    assert code == 0, out
    balances = tb(ledger)
    assert balances["Finished Goods Inventory"] == "84.00"
    assert balances["Sales Revenue"] == "-102.00"
    assert balances["Purchase Price Variance"] == "10.00"


def test_same_id_with_other_content_is_refused_and_nothing_posts(ledger: str,
                                                                 tmp_path: Path) -> None:
    assert bf("post", str(STOOL), "--db", ledger)[0] == 0
    before = tb(ledger)
    changed = write(tmp_path / "ev.csv", """
type,id,date,item,qty,unit_price
receipt,PO-9,2026-12-02,LEG,5,1.00
receipt,PO-1,2026-11-02,SEAT,10001,5.10
""")
    code, out = bf("post", str(changed), "--db", ledger)
    assert code == 1
    assert "event PO-1, field 'id': this id was posted before with different content" in out
    assert tb(ledger) == before


def test_an_event_in_a_locked_period_is_refused(ledger: str, tmp_path: Path) -> None:
    assert bf("post", str(STOOL), "--db", ledger)[0] == 0  # the file closes 2026-11
    late = write(tmp_path / "late.csv", """
type,id,date,item,qty,unit_price
receipt,PO-9,2026-11-30,LEG,5,1.00
""")
    code, out = bf("post", str(late), "--db", ledger)
    assert code == 1 and "closed period" in out and "PO-9" in out
    code, out = bf("close", "2026-12", "--db", ledger)
    assert code == 0 and "Closed 2026-12" in out
    assert bf("close", "2026-12", "--db", ledger)[1].startswith("2026-12 was already closed")


@pytest.mark.parametrize(("text", "expected"), [
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEET,1,5\n",
     "ev.csv:2, events[0] (PO-1), field 'item': unknown item 'SEET'"),
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEAT,abc,5\n",
     "field 'qty': 'abc' is not a decimal number"),
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEAT,-1,5\n",
     "field 'qty': must be positive"),
    ("type,id,date,item,qty,colour\nreceipt,PO-1,2026-11-02,SEAT,1,red\n",
     "field 'colour': unknown field"),
])
def test_bad_event_files_name_the_line_and_post_nothing(ledger: str, tmp_path: Path, text: str,
                                                        expected: str) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(text)
    code, out = bf("post", str(path), "--db", ledger)
    assert code == 2 and "nothing was changed" in out
    assert expected in out.replace("\n", " ") or expected in out
    assert tb(ledger) == {}


def test_imports_build_master_data_row_by_row(db_url: str, tmp_path: Path) -> None:
    assert bf("init", "--db", db_url, "--as-of", "2026-11-01")[0] == 0
    items = write(tmp_path / "items.csv", """
code,uom,type,standard_cost,conversion_cost,phantom
SEAT,ea,purchased,5.00,,
LEG,ea,purchased,1.00,,
STOOL,ea,made,,,
KIT,ea,made,,,yes
""")
    wcs = write(tmp_path / "wcs.csv", "code,rate,labor_rate,overhead_rate\nASSY,,20,40\n")
    routings = write(tmp_path / "routings.csv", """
item,operation,work_center,run_hours,setup_hours,lot_size
STOOL,10,ASSY,0.1,,
""")
    boms = write(tmp_path / "boms.csv", """
parent,version,effective,component,qty,scrap
KIT,1,2026-01-01,LEG,3,0.02
STOOL,1,2026-01-01,SEAT,1,
STOOL,1,2026-01-01,KIT,1,
""")
    for kind, path in (("items", items), ("work-centers", wcs), ("routings", routings),
                       ("boms", boms)):
        code, out = bf("import", kind, str(path), "--db", db_url, "--as-of", "2026-11-01")
        assert code == 0, out
    ev = write(tmp_path / "ev.csv", """
type,id,date,item,qty,unit_price,hours
receipt,P1,2026-11-02,SEAT,10,5,
receipt,P2,2026-11-02,LEG,40,1,
completion,W1,2026-11-03,STOOL,10,,ASSY=1.5
""")
    code, out = bf("post", str(ev), "--db", db_url)
    assert code == 0, out
    # STOOL = 5 + 3 x 1.02 + 0.1 h x 60 = 14.06; applied 1.5 h x 60 = 90 vs 60 standard
    assert tb(db_url)["Finished Goods Inventory"] == "140.60"
    assert tb(db_url)["Conversion Efficiency Variance"] == "30.00"
    # once posted, standards are frozen: a BOM change that would restate them is refused
    code, out = bf("import", "items", str(write(tmp_path / "i2.csv", """
code,uom,type,standard_cost
GLUE,ea,purchased,0.10
""")), "--db", db_url)
    assert code == 0, out
    costs = write(tmp_path / "costs.csv", "item,standard_cost,date\nLEG,1.10,2026-11-05\n")
    code, out = bf("import", "costs", str(costs), "--db", db_url)
    assert code == 0 and "posted 1 cost changes" in out, out
    assert bf("verify", "--db", db_url)[0] == 0


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("items", "code,uom,colour\nA,ea,red\n", "header, field 'colour': unknown column"),
    ("items", "uom\nea\n", "header, field 'code': missing column"),
    ("items", "code,standard_cost\nA,1.x\nB,2\nC,-3\n",
     ["items.csv:2, item A, field 'standard_cost': '1.x' is not a decimal number",
      "items.csv:4, item C, field 'standard_cost': must not be negative"]),
    ("boms", "parent,component,qty\nSTOOL,NOPE,1\n", "unknown item 'NOPE'"),
    ("work-centers", "code,rate\nW1,fast\n", "'fast' is not a decimal number"),
    ("costs", "item,standard_cost\nNOPE,1\n", "items.csv:2, line 2, field 'item': unknown "
     "item 'NOPE'"),
])
def test_bad_import_rows_are_all_reported_and_nothing_is_imported(
        ledger: str, tmp_path: Path, kind: str, text: str, expected: str | list[str]) -> None:
    path = tmp_path / "items.csv"
    path.write_text(text)
    code, out = bf("import", kind, str(path), "--db", ledger)
    flat = " ".join(out.split())
    assert code == 2, out
    for e in [expected] if isinstance(expected, str) else expected:
        assert " ".join(e.split()) in flat
    code, out = bf("report", "stock", "--db", ledger, "--format", "json")
    assert json.loads(out) == []


def test_xlsx_import_and_reports_in_every_format(ledger: str, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "uom", "type", "standard_cost"])
    ws.append(["GLUE", "kg", "purchased", 2.35])
    wb.save(tmp_path / "items.xlsx")
    code, out = bf("import", "items", str(tmp_path / "items.xlsx"), "--db", ledger)
    assert code == 0, out
    assert bf("post", str(STOOL), "--db", ledger)[0] == 0
    code, out = bf("report", "journal", "--db", ledger, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("entry,date,event,type")
    code, out = bf("report", "variances", "--db", ledger, "--format", "json")
    assert {r["family"]: r["amount"] for r in json.loads(out)} == {
        "conversion": "2700.00", "purchase_price": "1000.00"}
    code, out = bf("report", "stock", "--db", ledger)
    assert code == 0 and "STOOL" in out
    xlsx = tmp_path / "tb.xlsx"
    code, out = bf("report", "trial-balance", "--db", ledger, "--format", "xlsx",
                   "--output", str(xlsx))
    assert code == 0
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("account", "debit", "credit")
    code, out = bf("explain", "WO-1", "--db", ledger, "--json")
    doc = json.loads(out)
    assert doc["entries"][0]["bom"] == "STOOL@v1"
    assert bf("explain", "NOPE", "--db", ledger)[0] == 2


def test_commands_on_a_database_without_a_ledger_say_so(tmp_path: Path) -> None:
    code, out = bf("report", "stock", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2 and "run `backflush init` first" in " ".join(out.split())


def test_run_db_keeps_what_the_scenario_posted(db_url: str) -> None:
    code, out = bf("run", str(STOOL), "--db", db_url, "--json")
    assert code == 0, out
    assert tb(db_url)["Finished Goods Inventory"] == "4200.00"
    code, out = bf("run", str(STOOL), "--db", db_url)
    assert code == 2 and "already holds a ledger" in " ".join(out.split())


def test_summary_journal_through_the_cli(db_url: str, tmp_path: Path) -> None:
    """init --journal summary; a CSV of completions, receipts and sales is streamed into one
    summary entry per day; every event is stored and explained by its share."""
    code, out = bf("init", "--db", db_url, "--from", str(STOOL), "--journal", "summary")
    assert code == 0, out
    rows = ["id,date,type,item,qty,unit_price"]
    rows += [f"R{i},2026-11-0{1 + i % 2},receipt,{item},500,{price}"
             for i, (item, price) in enumerate([("SEAT", "5.10"), ("LEG", "0.95")])]
    rows += [f"W{i},2026-11-0{2 + i % 3},completion,STOOL,{1 + i % 4}," for i in range(60)]
    rows += [f"S{i},2026-11-04,sale,STOOL,1,25.00" for i in range(20)]
    events = write(tmp_path / "ev.csv", "\n".join(rows))
    code, out = bf("post", str(events), "--db", db_url)
    assert code == 0 and "Posted 82 events" in out and "82 in summary entries" in out, out
    code, out = bf("report", "journal", "--format", "json", "--db", db_url)
    journal = json.loads(out)
    entries = journal if isinstance(journal, list) else journal["entries"]
    assert {e["type"] for e in entries} == {"summary"}
    assert len({e["entry"] for e in entries}) == 4  # one summary entry a day
    code, out = bf("explain", "W7", "--db", db_url)
    assert code == 0 and "Posted in summary entry #" in out and "Share" in out, out
    code, out = bf("explain", "#1", "--db", db_url)
    assert code == 0 and "Summary entry #1" in out, out
    assert bf("verify", "--db", db_url)[0] == 0
    code, out = bf("post", str(events), "--db", db_url)
    assert code == 0 and "82 duplicates skipped" in out, out


def test_a_bad_row_late_in_a_streamed_file_posts_nothing(ledger: str, tmp_path: Path) -> None:
    rows = ["id,date,type,item,qty,unit_price"]
    rows += [f"W{i},2026-11-02,completion,STOOL,1," for i in range(3000)]
    rows += ["W-BAD,2026-11-02,completion,STOOL,-1,", "W-LAST,2026-11-02,completion,STOOL,1,"]
    path = write(tmp_path / "late.csv", "\n".join(rows))
    code, out = bf("post", str(path), "--db", ledger)
    assert code == 2 and "nothing was changed" in out and "late.csv:3002" in out, out
    assert "qty" in out and tb(ledger) == {}
