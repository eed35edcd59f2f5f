"""``backflush report suitability`` and the KPIs it adds, through the CLI on a SQLite ledger:
the table with its explanations, JSON and CSV, thresholds by option, receipts with a due date
posted from a CSV file, and every bad option or input refused (exit 2) with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.support import bf, ok, snapshot, write
from tests.unit.test_suitability import PLANT


@pytest.fixture
def plant(tmp_path: Path, sqlite_url: str) -> str:
    ok("run", str(write(tmp_path / "plant.yaml", PLANT)), "--db", sqlite_url)
    return sqlite_url


def test_the_report_as_json_lists_every_check_and_each_finding(plant: str) -> None:
    rows = json.loads(ok("report", "suitability", "--db", plant, "--format", "json").stdout)
    beyond = {(r["check"], r["subject"]): r for r in rows if r["status"] == "beyond"}
    assert set(beyond) == {("long release-to-completion time", "STOOL"),
                           ("work in process not on the books", "WO-2"),
                           ("customised item (made once)", "TABLE"),
                           ("large count difference", "CC-1"),
                           ("high scrap rate (item)", "STOOL"),
                           ("high scrap rate (work center)", "PAINT"),
                           ("high scrap rate (work center)", "ASSY")}
    wip = beyond[("work in process not on the books", "WO-2")]
    assert (wip["figure"], wip["threshold"], wip["value at standard"]) == ("10", "5", "100.00")
    count = beyond[("large count difference", "CC-1")]
    assert (count["figure"], count["value at standard"]) == ("0.1", "-20.00")
    assert "10 % of the book" in count["explanation"]
    within = {r["check"]: r for r in rows if r["status"] == "within"}
    assert within["slow inventory turnover"]["figure"] == "21.5149"
    assert within["customised item (many BOM versions)"]["explanation"] == (
        "no finding (2 items with a BOM)")


def test_thresholds_by_option_and_the_table_with_its_explanations(plant: str) -> None:
    out = ok("report", "suitability", "--db", plant, "--max-cycle-days", "10",
             "--max-scrap-rate", "0.1", "--max-count-difference", "0.1", "--min-turnover", "25",
             "--min-completions", "1", "--max-bom-versions", "1")
    text = out.flat
    assert "1 finding" not in text and "2 findings" in text, text
    assert "#3" not in text and " ok " in text
    assert "#1 Inventory turned 21.5149 times a year over these 29 days" in text
    assert "#2 TABLE has 2 BOM versions" in text
    assert "work in process not on the books 0.00 at standard" in text
    csv = ok("report", "suitability", "--db", plant, "--format", "csv", "--from",
             "2026-11-01", "--to", "2026-11-25").stdout
    # On the 25th WO-2 was 5 days old; WO-1's 8 days still count; the count was on the 30th.
    assert "WO-2" not in csv and "CC-1" not in csv and "STOOL,beyond,8,5,days" in csv


def test_the_kpis_report_shows_work_centers_and_on_time_receipts(plant: str) -> None:
    rows = json.loads(ok("report", "kpis", "--db", plant, "--format", "json").stdout)
    found = {(r["kpi"], r["key"]): r["value"] for r in rows}
    assert found[("scrap rate by work center", "PAINT")] == "0.1"
    assert found[("on-time receipts", "Acme")] == "0.5"
    assert found[("orders", "longest cycle (days)")] == "8"
    assert found[("inventory turnover a year", "")] == "21.5149"


def test_receipts_with_a_due_date_post_from_csv_and_a_bad_one_posts_nothing(
        plant: str, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", """
type,id,date,item,qty,unit_price,supplier,due
receipt,PO-9,2026-12-04,SEAT,10,5.00,Bolt,2026-12-01
receipt,PO-10,2026-12-04,SEAT,10,5.00,Bolt,2026-12-05
""")
    ok("post", str(good), "--db", plant)
    rows = json.loads(ok("report", "kpis", "--db", plant, "--format", "json").stdout)
    bolt = next(r for r in rows if r["kpi"] == "on-time receipts" and r["key"] == "Bolt")
    assert bolt["value"] == "0.5" and "3 days late" in bolt["detail"]
    before = snapshot(plant)
    bad = write(tmp_path / "bad.csv", """
type,id,date,item,qty,unit_price,due
receipt,PO-11,2026-12-04,SEAT,10,5.00,2026-12-01
receipt,PO-12,2026-12-04,SEAT,10,5.00,next week
""")
    out = bf("post", str(bad), "--db", plant)
    assert out.code == 2 and "bad.csv:3, events[1] (PO-12), field 'due'" in out.stderr, (
        out.output)
    assert "is not a date" in out.stderr
    assert snapshot(plant) == before


@pytest.mark.parametrize(("args", "option", "message"), [
    (["--max-scrap-rate", "2"], "--max-scrap-rate", "must be from 0 to 1"),
    (["--min-turnover", "1,5"], "--min-turnover", "is not a decimal number"),
    (["--max-cycle-days", "three"], "--max-cycle-days", "expected a whole number"),
    (["--min-completions", "0"], "--min-completions", "whole number from 1"),
    (["--max-count-difference", "-0.1"], "--max-count-difference", "zero or more"),
])
def test_a_bad_threshold_exits_2_naming_the_option(plant: str, args: list[str], option: str,
                                                   message: str) -> None:
    before = snapshot(plant)
    out = bf("report", "suitability", "--db", plant, *args)
    assert out.code == 2 and option in out.stderr and message in out.stderr, out.output
    assert out.stdout == "" and snapshot(plant) == before


def test_a_threshold_on_another_report_is_refused(plant: str) -> None:
    out = bf("report", "kpis", "--db", plant, "--max-cycle-days", "3")
    assert out.code == 2 and "only the suitability report has thresholds" in out.stderr
