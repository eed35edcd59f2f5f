"""The kept ledger through the command, on SQLite and PostgreSQL: init, import, post, close,
report, explain, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.e2e.support import STOOL, bf, doc, ok, snapshot, trial_balance, write


@pytest.fixture
def ledger(db_url: str) -> str:
    """A ledger with the stool plant's master data, no events yet."""
    out = ok("init", "--db", db_url, "--from", str(STOOL))
    assert "Created a ledger" in out.stdout
    return db_url


def test_post_is_idempotent_and_keeps_the_books(ledger: str) -> None:
    out = ok("post", str(STOOL), "--db", ledger)
    assert "Posted 6 events" in out.stdout and "0 duplicates skipped" in out.stdout
    out = ok("post", str(STOOL), "--db", ledger)
    assert "Posted 0 events" in out.stdout and "6 duplicates skipped" in out.flat
    assert "0 transactions rerun after concurrent updates" in out.stdout
    assert trial_balance(ledger) == {
        "Raw and In-Process Inventory": "1600.00", "Finished Goods Inventory": "4200.00",
        "Cost of Goods Sold": "136700.00", "Accounts Payable": "-81000.00",
        "Wages and Other Accounts": "-61500.00"}
    assert "Ledger verified" in ok("verify", "--db", ledger).stdout


def test_init_twice_changes_nothing(ledger: str) -> None:
    ok("post", str(STOOL), "--db", ledger)
    before = snapshot(ledger)
    out = ok("init", "--db", ledger, "--from", str(STOOL))
    assert "already holds a ledger" in out.flat
    assert snapshot(ledger) == before


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
    ok("post", str(csv_file), "--db", ledger)
    ok("post", str(jsonl), "--db", ledger)
    balances = trial_balance(ledger)
    assert balances["Finished Goods Inventory"] == "84.00"
    assert balances["Sales Revenue"] == "-102.00"
    assert balances["Purchase Price Variance"] == "10.00"


def test_same_id_with_other_content_is_refused_and_nothing_posts(ledger: str,
                                                                 tmp_path: Path) -> None:
    ok("post", str(STOOL), "--db", ledger)
    before = snapshot(ledger)
    changed = write(tmp_path / "ev.csv", """
type,id,date,item,qty,unit_price
receipt,PO-9,2026-12-02,LEG,5,1.00
receipt,PO-1,2026-11-02,SEAT,10001,5.10
""")
    out = bf("post", str(changed), "--db", ledger)
    assert out.code == 1, out.output
    assert "PO-1" in out.stderr and "field 'id'" in out.stderr
    assert "nothing of its batch was posted" in out.stderr
    assert snapshot(ledger) == before


def test_an_event_in_a_locked_period_is_refused(ledger: str, tmp_path: Path) -> None:
    ok("post", str(STOOL), "--db", ledger)  # the file closes 2026-11
    late = write(tmp_path / "late.csv", """
type,id,date,item,qty,unit_price
receipt,PO-9,2026-11-30,LEG,5,1.00
""")
    out = bf("post", str(late), "--db", ledger)
    assert out.code == 1 and "closed" in out.stderr and "PO-9" in out.stderr, out.output
    assert "Closed 2026-12" in ok("close", "2026-12", "--db", ledger).stdout
    twice = bf("close", "2026-12", "--db", ledger)
    assert twice.code == 1 and "2026-12 is already closed" in twice.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEET,1,5\n",
     "ev.csv:2, events[0] (PO-1), field 'item': unknown item 'SEET'"),
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEAT,abc,5\n",
     "field 'qty'"),
    ("type,id,date,item,qty,unit_price\nreceipt,PO-1,2026-11-02,SEAT,-1,5\n",
     "field 'qty'"),
    ("type,id,date,item,qty,colour\nreceipt,PO-1,2026-11-02,SEAT,1,red\n",
     "colour"),
])
def test_bad_event_files_name_the_line_and_post_nothing(ledger: str, tmp_path: Path, text: str,
                                                        expected: str) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(text)
    before = snapshot(ledger)
    out = bf("post", str(path), "--db", ledger)
    assert out.code == 2 and "nothing was changed" in out.stderr, out.output
    assert expected in out.flat
    assert snapshot(ledger) == before


def test_imports_build_master_data_row_by_row(db_url: str, tmp_path: Path) -> None:
    ok("init", "--db", db_url, "--as-of", "2026-11-01")
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
        out = ok("import", kind, str(path), "--db", db_url, "--as-of", "2026-11-01")
        assert "Imported" in out.stdout and "cost version" in out.stdout
    ev = write(tmp_path / "ev.csv", """
type,id,date,item,qty,unit_price,hours
receipt,P1,2026-11-02,SEAT,10,5,
receipt,P2,2026-11-02,LEG,40,1,
completion,W1,2026-11-03,STOOL,10,,ASSY=1.5
""")
    ok("post", str(ev), "--db", db_url)
    # STOOL = 5 + 3 x 1.02 + 0.1 h x 60 = 14.06; applied 1.5 h x 60 = 90 vs 60 standard
    balances = trial_balance(db_url)
    assert balances["Finished Goods Inventory"] == "140.60"
    assert balances["Conversion Efficiency Variance"] == "30.00"
    ok("import", "items", str(write(tmp_path / "i2.csv", """
code,uom,type,standard_cost
GLUE,ea,purchased,0.10
""")), "--db", db_url)
    costs = write(tmp_path / "costs.csv", "item,standard_cost,date\nLEG,1.10,2026-11-05\n")
    out = ok("import", "costs", str(costs), "--db", db_url)
    assert "posted 1 cost changes" in out.stdout, out.output
    ok("verify", "--db", db_url)


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("items", "code,uom,colour\nA,ea,red\n", ["colour", "unknown column"]),
    ("items", "uom\nea\n", ["field 'code'", "missing column"]),
    ("items", "code,standard_cost\nA,1.x\nB,2\nC,-3\n",
     ["items.csv:2, item A, field 'standard_cost'", "items.csv:4, item C, field "
      "'standard_cost'"]),
    ("boms", "parent,component,qty\nSTOOL,NOPE,1\n", ["NOPE"]),
    ("work-centers", "code,rate\nW1,fast\n", ["'fast'"]),
    ("costs", "item,standard_cost\nNOPE,1\n", ["items.csv:2", "unknown item 'NOPE'"]),
])
def test_bad_import_rows_are_all_reported_and_nothing_is_imported(
        ledger: str, tmp_path: Path, kind: str, text: str, expected: list[str]) -> None:
    path = tmp_path / "items.csv"
    path.write_text(text)
    before = snapshot(ledger)
    out = bf("import", kind, str(path), "--db", ledger)
    assert out.code == 2, out.output
    for e in expected:
        assert e in out.flat
    assert snapshot(ledger) == before
    assert doc(ok("report", "stock", "--db", ledger, "--format", "json")) == []


def test_xlsx_import_and_reports_in_every_format(ledger: str, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "uom", "type", "standard_cost"])
    ws.append(["GLUE", "kg", "purchased", 2.35])
    wb.save(tmp_path / "items.xlsx")
    ok("import", "items", str(tmp_path / "items.xlsx"), "--db", ledger)
    ok("post", str(STOOL), "--db", ledger)
    out = ok("report", "journal", "--db", ledger, "--format", "csv")
    assert out.stdout.splitlines()[0].startswith("entry,date,event,type")
    out = ok("report", "variances", "--db", ledger, "--format", "json")
    assert {r["family"]: r["amount"] for r in doc(out)} == {
        "conversion": "2700.00", "purchase_price": "1000.00"}
    assert "STOOL" in ok("report", "stock", "--db", ledger).stdout
    xlsx = tmp_path / "tb.xlsx"
    ok("report", "trial-balance", "--db", ledger, "--format", "xlsx", "--output", str(xlsx))
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("account", "debit", "credit")
    assert rows[1][0] == "Raw and In-Process Inventory" and float(rows[1][1]) == 1600.0
    csv_out = tmp_path / "journal.csv"
    ok("report", "journal", "--db", ledger, "--format", "csv", "--output", str(csv_out))
    assert csv_out.read_text().startswith("entry,date,event")
    d = doc(ok("explain", "WO-1", "--db", ledger, "--json"))
    assert d["entries"][0]["bom"] == "STOOL@v1"
    assert "Entry #" in ok("explain", "WO-1", "--db", ledger).stdout
    missing = bf("explain", "NOPE", "--db", ledger)
    assert missing.code == 2 and "no event or journal entry 'NOPE'" in missing.stderr


def test_summary_journal_through_the_command(db_url: str, tmp_path: Path) -> None:
    """init --journal summary; a CSV of completions, receipts and sales is streamed into one
    summary entry per day; every event is stored and explained by its share."""
    ok("init", "--db", db_url, "--from", str(STOOL), "--journal", "summary")
    rows = ["id,date,type,item,qty,unit_price"]
    rows += [f"R{i},2026-11-0{1 + i % 2},receipt,{item},500,{price}"
             for i, (item, price) in enumerate([("SEAT", "5.10"), ("LEG", "0.95")])]
    rows += [f"W{i},2026-11-0{2 + i % 3},completion,STOOL,{1 + i % 4}," for i in range(60)]
    rows += [f"S{i},2026-11-04,sale,STOOL,1,25.00" for i in range(20)]
    events = write(tmp_path / "ev.csv", "\n".join(rows))
    out = ok("post", str(events), "--db", db_url)
    assert "Posted 82 events" in out.stdout and "82 in summary entries" in out.stdout
    entries = doc(ok("report", "journal", "--format", "json", "--db", db_url))
    assert {e["type"] for e in entries} == {"summary"}
    assert len({e["entry"] for e in entries}) == 4  # one summary entry a day
    out = ok("explain", "W7", "--db", db_url)
    assert "Posted in summary entry #" in out.stdout and "Share" in out.stdout
    assert "Summary entry #1" in ok("explain", "#1", "--db", db_url).stdout
    ok("verify", "--db", db_url)
    assert "82 duplicates skipped" in ok("post", str(events), "--db", db_url).stdout


def test_a_bad_row_late_in_a_streamed_file_posts_nothing(ledger: str, tmp_path: Path) -> None:
    rows = ["id,date,type,item,qty,unit_price"]
    rows += [f"W{i},2026-11-02,completion,STOOL,1," for i in range(3000)]
    rows += ["W-BAD,2026-11-02,completion,STOOL,-1,", "W-LAST,2026-11-02,completion,STOOL,1,"]
    path = write(tmp_path / "late.csv", "\n".join(rows))
    out = bf("post", str(path), "--db", ledger)
    assert out.code == 2 and "nothing was changed" in out.stderr, out.output
    assert "late.csv:3002" in out.stderr and "qty" in out.stderr
    assert trial_balance(ledger) == {}


def test_batches_commit_one_by_one(ledger: str, tmp_path: Path) -> None:
    rows = ["id,date,type,item,qty,unit_price"]
    rows += [f"R{i},2026-11-02,receipt,LEG,1,1.00" for i in range(25)]
    path = write(tmp_path / "ev.csv", "\n".join(rows))
    out = ok("post", str(path), "--db", ledger, "--batch-size", "10")
    assert "Posted 25 events" in out.stdout
    assert trial_balance(ledger)["Raw and In-Process Inventory"] == "25.00"
    assert "25 duplicates skipped" in ok("post", str(path), "--db", ledger,
                                         "--batch-size", "7").stdout


def test_report_json_and_csv_keep_every_digit(ledger: str, tmp_path: Path) -> None:
    ok("post", str(STOOL), "--db", ledger)
    rows = doc(ok("report", "stock", "--db", ledger, "--format", "json"))
    assert {r["item"]: r["qty"] for r in rows} == {"LEG": "600", "SEAT": "200", "STOOL": "300"}
    assert all(isinstance(v, str) for r in rows for v in r.values())
    out = json.loads(ok("report", "trial-balance", "--db", ledger, "--format", "json").stdout)
    assert out[0] == {"account": "Raw and In-Process Inventory", "debit": "1600.00",
                      "credit": None}


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("items", "code,uom,type,standard_cost\nSEAT,kg,purchased,5.00\n",
     ["item SEAT, field 'uom'", "cannot become 'kg'", "new code"]),
    ("items", "code,uom,type,conversion_cost\nLEG,ea,made,0.50\n",
     ["item LEG, field 'type'", "is purchased", "cannot become made"]),
    ("items", "code,uom,type,conversion_cost,phantom\nSTOOL,ea,made,6.00,yes\n",
     ["item STOOL, field 'phantom'", "cannot become true"]),
    ("items", "code,uom,type,standard_cost\nSEAT,ea,purchased,5.50\n",
     ["item SEAT, field 'standard_cost'", "post a cost_change"]),
    ("boms", "parent,version,effective,component,qty\nSTOOL,1,2000-01-01,SEAT,2\n",
     ["bom STOOL@v1", "add a new version with a later effective date"]),
    ("boms", "parent,version,effective,component,qty\nSTOOL,2,2026-11-10,SEAT,2\n",
     ["bom STOOL@v2, field 'effective'", "after the last event posted"]),
])
def test_an_import_may_not_change_what_posted_entries_depend_on(
        ledger: str, tmp_path: Path, kind: str, text: str, expected: list[str]) -> None:
    ok("post", str(STOOL), "--db", ledger)
    before = snapshot(ledger)
    path = write(tmp_path / f"{kind}.csv", text)
    out = bf("import", kind, str(path), "--db", ledger)
    assert out.code == 2, out.output
    for e in expected:
        assert e in out.flat, out.output
    assert snapshot(ledger) == before
