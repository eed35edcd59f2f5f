"""Standards maintenance from the command line (issue 15, item 5): preview a rate change,
post it by importing the work centers again, read the cost sheet."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.support import bf, ok, snapshot, write

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "plant"


def plant_ledger(db: str) -> None:
    ok("init", "--db", db, "--as-of", "2026-11-01")
    for kind in ("work-centers", "items", "boms", "routings"):
        ok("import", kind, str(PLANT / f"{kind}.csv"), "--as-of", "2026-11-01", "--db", db)
    ok("post", str(PLANT / "events.csv"), "--db", db)


def test_preview_then_import_the_new_rates(sqlite_url: str, tmp_path: Path) -> None:
    plant_ledger(sqlite_url)
    sheet = json.loads(ok("report", "cost-sheet", "--format", "json", "--db",
                          sqlite_url).stdout)
    stool = {r["level"].split(" ")[0]: r for r in sheet if r["item"] == "STOOL"}
    assert stool["this"]["labor"] == "2.00" and stool["this"]["hours"] == "ASSY 0.1"
    before = snapshot(sqlite_url)
    change = write(tmp_path / "rates.csv", "type,id,date,work_center,labor_rate\n"
                   "rate_change,RC-1,2026-11-30,ASSY,22.00\n")
    seen = ok("post", str(change), "--preview", "--db", sqlite_url)
    assert "nothing was posted" in seen.stdout and "Revaluation Variance" in seen.stdout
    assert snapshot(sqlite_url) == before
    assert bf("post", str(change), "--preview", "--batch-size", "5", "--db",
              sqlite_url).code == 2
    rates = write(tmp_path / "work-centers.csv", "code,rate,labor_rate,overhead_rate\n"
                  "CUT,,18.00,24.00\nASSY,,22.00,30.00\n")
    done = ok("import", "work-centers", str(rates), "--as-of", "2026-11-30", "--db",
              sqlite_url)
    assert "posted 1 rate changes" in done.stdout
    sheet = json.loads(ok("report", "cost-sheet", "--format", "json", "--db",
                          sqlite_url).stdout)
    stool = {r["level"].split(" ")[0]: r for r in sheet if r["item"] == "STOOL"}
    assert stool["this"]["labor"] == "2.20"
    assert bf("report", "cost-sheet", "--period", "2026-11", "--db", sqlite_url).code == 2
    ok("verify", "--db", sqlite_url)
