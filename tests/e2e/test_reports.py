"""``backflush report`` and the tables of every command, as an accountant reads them: no
number ever cut, the same empty value in every format, reports for a month or a range, and
XLSX files with real number formats, dates, widths and frozen headers."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.support import bf, doc, ok, write

BIG = """
format: 1
name: A plant with a very long description of itself, to crowd the terminal
currency: USD
items:
  - {code: SEAT-WITH-A-LONG-CODE, standard_cost: 123.45}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT-WITH-A-LONG-CODE, qty: 1}, {item: LEG, qty: 3}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT-WITH-A-LONG-CODE, qty: 1000000000,
     unit_price: 123.46, id: PO-1, supplier: A supplier with a name far too long for a column}
  - {type: receipt, date: 2026-11-03, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}
  - {type: completion, date: 2026-11-20, item: STOOL, qty: 9800, id: WO-1}
  - {type: sale, date: 2026-12-05, item: STOOL, qty: 9500, unit_price: 25.00, id: SO-1}
"""
AMOUNT = "123,450,000,000.00"  # 12 digits before the point
TWELVE = r"\d{3},\d{3},\d{3},\d{3}\.\d\d"


@pytest.fixture
def big(sqlite_url: str, tmp_path: Path) -> str:
    ok("run", str(write(tmp_path / "big.yaml", BIG)), "--db", sqlite_url, "--no-journal")
    return sqlite_url


@pytest.mark.parametrize("args", [
    ("report", "trial-balance"), ("report", "journal"), ("report", "stock"),
    ("explain", "PO-1")])
def test_an_80_column_table_shows_every_digit_of_a_12_digit_amount(big: str,
                                                                   args: tuple[str, ...]) -> None:
    out = bf(*args, "--db", big, env={"COLUMNS": "80"})
    assert out.code == 0, out.output
    assert re.search(TWELVE, out.stdout) and "…" not in out.stdout
    if args[0] != "report" or args[1] == "journal":
        assert AMOUNT in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80 or args[0] == "explain"


def test_run_and_report_print_the_same_trial_balance(big: str, tmp_path: Path) -> None:
    ran = ok("run", str(write(tmp_path / "big.yaml", BIG)), "--no-journal").stdout
    reported = ok("report", "trial-balance", "--db", big).stdout
    table = reported[reported.index("Trial balance"):]
    assert table.strip() in ran
    assert "Total" in table and "999,990,200" in ok("report", "stock", "--db", big).stdout


def test_an_empty_value_is_empty_in_every_format(big: str) -> None:
    rows = doc(ok("report", "journal", "--db", big, "--format", "json"))
    assert rows[0]["credit"] is None and rows[0]["debit"] is not None
    assert all(isinstance(v, str) or v is None for r in rows for v in r.values())
    csv_lines = ok("report", "journal", "--db", big, "--format", "csv").stdout.splitlines()
    first = csv_lines[1].split(",")
    assert first[6] and first[7] == ""  # a debit line: no 0.00 in its credit


def test_reports_for_a_month_or_a_range_of_days(big: str) -> None:
    nov = doc(ok("report", "journal", "--db", big, "--period", "2026-11", "--format", "json"))
    assert {r["event"] for r in nov} == {"PO-1", "PO-2", "WO-1"}
    span = doc(ok("report", "journal", "--db", big, "--from", "2026-11-03", "--to",
                  "2026-11-20", "--format", "json"))
    assert {r["event"] for r in span} == {"PO-2", "WO-1"}
    end_nov = {r["account"] for r in doc(ok("report", "trial-balance", "--db", big,
                                            "--period", "2026-11", "--format", "json"))}
    now = {r["account"] for r in doc(ok("report", "trial-balance", "--db", big,
                                        "--format", "json"))}
    assert "Cost of Goods Sold" in now and "Cost of Goods Sold" not in end_nov
    variances = doc(ok("report", "variances", "--db", big, "--period", "2026-12",
                       "--format", "json"))
    assert variances == []  # the sale in December has no variance; November's are not in it


@pytest.mark.parametrize(("args", "message"), [
    (("--period", "2026-13"), "--period: expected a month such as 2026-11"),
    (("--period", "2026-11", "--to", "2026-11-30"), "not both"),
    (("--from", "2026-11-20", "--to", "2026-11-01"), "is after --to"),
    (("--from", "yesterday"), "--from: expected a date"),
])
def test_a_bad_range_is_refused_before_the_ledger_is_read(big: str, args: tuple[str, ...],
                                                          message: str) -> None:
    out = bf("report", "journal", "--db", big, *args)
    assert out.code == 2 and message in out.stderr, out.output
    out = bf("report", "stock", "--db", big, "--period", "2026-11")
    assert out.code == 2 and "on hand now" in out.stderr


def test_xlsx_has_formats_dates_widths_frozen_header_and_totals(big: str,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "journal.xlsx"
    ok("report", "journal", "--db", big, "--format", "xlsx", "--output", str(path))
    ws = load_workbook(path)["journal"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["entry", "date", "event"] and all(c.font.b for c in ws[1])
    entry, day, debit = ws["A2"], ws["B2"], ws["G3"]  # (G2: the price variance)
    assert entry.value == 1 and entry.number_format == "0"
    assert isinstance(day.value, datetime) and day.is_date and day.number_format == "yyyy-mm-dd"
    assert debit.number_format == "#,##0.00" and debit.value == 123450000000
    last = list(ws.iter_rows(values_only=True))[-1]
    assert last[0] == "Total" and ws.cell(ws.max_row, 1).font.b
    assert last[6] == last[7] and last[6] > 123450000000
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["E"] > widths["A"] and widths["G"] >= len(f"{AMOUNT}") + 1


def test_run_writes_a_workbook_with_a_sheet_per_report(tmp_path: Path) -> None:
    path = tmp_path / "run.xlsx"
    ok("run", str(write(tmp_path / "big.yaml", BIG)), "--format", "xlsx", "--output", str(path))
    wb = load_workbook(path)
    assert wb.sheetnames == ["journal", "trial-balance", "stock", "variances", "kpis"]
    assert wb["stock"]["C2"].number_format == "#,##0"
    out = bf("run", str(tmp_path / "big.yaml"), "--format", "xlsx")
    assert out.code == 2 and "needs --output" in out.stderr
    saved = tmp_path / "run.json"
    ok("run", str(tmp_path / "big.yaml"), "--json", "--output", str(saved))
    assert json.loads(saved.read_text())["balances"]["Accounts Payable"].startswith("-")


PLANT = Path(__file__).resolve().parents[2] / "examples" / "plant"


@pytest.fixture(params=["per_event", "summary"])
def plant(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The shipped small plant, posted an entry per event or in summary entries."""
    db = f"sqlite:///{tmp_path / 'plant.db'}"
    ok("init", "--db", db, "--as-of", "2026-11-01", "--journal", request.param)
    for kind in ("work-centers", "items", "boms", "routings"):
        ok("import", kind, str(PLANT / f"{kind}.csv"), "--db", db, "--as-of", "2026-11-01")
    ok("post", str(PLANT / "events.csv"), "--db", db)
    return db


def test_variances_by_item_supplier_and_work_center_add_up_to_each_family(plant: str) -> None:
    families = {r["family"]: Decimal(r["amount"])
                for r in doc(ok("report", "variances", "--db", plant, "--format", "json"))}
    found: dict[str, dict[str, str]] = {}
    for by in ("item", "supplier", "work-center", "event"):
        rows = doc(ok("report", "variances", "--by", by, "--db", plant, "--format", "json"))
        sums: dict[str, Decimal] = {}
        for r in rows:
            sums[r["family"]] = sums.get(r["family"], Decimal(0)) + Decimal(r["amount"])
        assert sums == families, by
        found[by] = {f"{r['family']}/{r[by]}": r["amount"] for r in rows}
    # SEAT 1,100 at 5.10 against 5.00; LEG 3,200 at 0.98 against 1.00 (posting-rules §2)
    assert found["item"]["purchase_price/SEAT"] == "110.00"
    assert found["supplier"]["purchase_price/Nordic Wood AB"] == "-64.00"
    assert found["item"]["usage/LEG"] == "12.00"  # counted 128 where 140 were expected
    assert found["work-center"]["conversion/ASSY"] == "175.00"  # hours over standard
    assert "conversion/(conversion incurred - applied)" in found["item"]
    # Event by event: the drill-down to what is behind a figure.
    assert all(r["events"] == "1" for r in doc(ok(
        "report", "variances", "--by", "event", "--db", plant, "--format", "json"))
        if not r["event"].startswith("("))
    assert sum(Decimal(v) for k, v in found["event"].items()
               if k.startswith("purchase_price/")) == families["purchase_price"]
    out = bf("report", "journal", "--by", "item", "--db", plant)
    assert out.code == 2 and "only the variances report" in out.stderr
