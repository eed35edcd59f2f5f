"""BOM lines issued by hand through the CLI on SQLite (issue 16, item 3): a scenario with a
manual line and an ``issue``, posted into a kept ledger, read back by the reports and
``explain``; bad issues refused with a clear message, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.support import bf, ok, snapshot, trial_balance, write
from tests.unit.test_issue_by_hand import SCENARIO


def test_a_scenario_with_a_manual_line_posts_through_the_cli(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path / "chair.yaml", SCENARIO)
    ok("init", "--db", sqlite_url, "--from", str(path))
    ok("post", str(path), "--db", sqlite_url)
    # 100 seats 500.00 + 20 motors 2,400.00 received; 12 chairs at 131.00 to FG; the seats
    # backflushed, 10 motors consumed from process and 2 short of the issue (240.00).
    assert trial_balance(sqlite_url) == {
        "Raw and In-Process Inventory": "1640.00", "Finished Goods Inventory": "1572.00",
        "Conversion Costs Applied": "-72.00", "Accounts Payable": "-2900.00",
        "Material Usage Variance": "-240.00"}
    stock = json.loads(ok("report", "stock", "--format", "json", "--db", sqlite_url).stdout)
    assert {(r["item"], r["location"]): r["qty"] for r in stock if r["item"] == "MOTOR"} == {
        ("MOTOR", "stores"): "10"}
    shown = ok("explain", "IS-1", "--db", sqlite_url).flat
    assert "No journal entry" in shown and "in-process/CHAIR │ 10 │ issue" in shown
    shown = ok("explain", "WO-2", "--db", sqlite_url).output
    words = " ".join(w for w in shown.split() if w not in "│┃")  # the tables' cells, unwrapped
    assert "Material Usage Variance" in words and "short of the issues" in words
    assert "in-process/CHAIR │ -2 │ backflush" in " ".join(shown.split())
    ok("post", str(path), "--db", sqlite_url)  # again: every event a duplicate
    assert trial_balance(sqlite_url)["Material Usage Variance"] == "-240.00"
    ok("verify", "--db", sqlite_url)


@pytest.mark.parametrize(("row", "code", "message"), [
    ("issue,X-1,2026-12-06,SEAT,1,CHAIR", 1,
     "events[0] (X-1), field 'item': 'SEAT' is backflushed when 'CHAIR' is completed"),
    ("issue,X-2,2026-12-06,CHAIR,1,CHAIR", 1,
     "field 'item': 'CHAIR' is not a component of 'CHAIR'"),
    ("issue,X-3,2026-12-06,GHOST,1,CHAIR", 2, "field 'item': unknown item 'GHOST'"),
    ("issue,X-4,2026-12-06,MOTOR,1,GHOST", 2, "field 'for': unknown item 'GHOST'"),
    ("issue,X-5,2026-12-06,MOTOR,0,CHAIR", 2, "field 'qty': must be positive, got 0"),
    ("issue,X-6,2026-12-06,MOTOR,-2,CHAIR", 2, "field 'qty': must be positive"),
    ("issue,X-7,2026-11-20,MOTOR,1,CHAIR", 1,
     "field 'date': 2026-11-20 is in a closed period"),
])
def test_a_bad_issue_is_refused_and_changes_nothing(sqlite_url: str, tmp_path: Path, row: str,
                                                    code: int, message: str) -> None:
    path = write(tmp_path / "chair.yaml", SCENARIO)
    ok("init", "--db", sqlite_url, "--from", str(path))
    ok("post", str(path), "--db", sqlite_url)
    ok("close", "2026-11", "--db", sqlite_url, "--force")
    before = snapshot(sqlite_url)
    bad = write(tmp_path / "bad.csv", "type,id,date,item,qty,for\n" + row + "\n")
    out = bf("post", str(bad), "--db", sqlite_url)
    assert out.code == code, out.output
    assert message in out.flat, out.flat
    assert snapshot(sqlite_url) == before
