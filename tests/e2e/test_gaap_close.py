"""A close with the GAAP bridge from the command line, on SQLite and PostgreSQL: bad NRVs
refused with nothing posted, then the bridge, the income statements and the books-to-GAAP
report (issue 15, items 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.support import STOOL, bf, ok, snapshot, trial_balance, write


def stool_without_close(tmp_path: Path) -> Path:
    text = STOOL.read_text().replace("qty: 9500, id: SO-1", "qty: 9500, unit_price: 25, id: SO-1")
    lines = [ln for ln in text.splitlines() if "type: close" not in ln]
    return write(tmp_path / "stool.yaml", "\n".join(lines) + "\n")


def rows(out: str) -> dict[str, dict[str, str]]:
    return {r[next(iter(r))]: r for r in json.loads(out)}


def test_close_with_the_gaap_bridge_and_its_reports(db_url: str, tmp_path: Path) -> None:
    path = stool_without_close(tmp_path)
    ok("init", "--db", db_url, "--from", str(path))
    ok("post", str(path), "--db", db_url)
    before = snapshot(db_url)
    no_bridge = bf("close", "2026-11", "--nrv", "STOOL=12", "--db", db_url)
    assert no_bridge.code == 2 and "--gaap-bridge" in no_bridge.stderr
    malformed = bf("close", "2026-11", "--gaap-bridge", "--nrv", "STOOL", "--db", db_url)
    assert malformed.code == 2 and "ITEM=VALUE" in malformed.stderr
    unknown = bf("close", "2026-11", "--gaap-bridge", "--nrv", "CHAIR=3", "--db", db_url)
    assert unknown.code == 1 and "field 'nrv'" in unknown.flat and "CHAIR" in unknown.flat
    assert snapshot(db_url) == before  # nothing posted, the month still open
    out = ok("close", "2026-11", "--gaap-bridge", "--nrv", "STOOL=12.00", "--db", db_url)
    assert "GAAP bridge posted at 2026-11-30, reversed on 2026-12-01" in out.stdout
    # The books go on at standard: the bridge and its reversal net to nothing.
    assert "GAAP Adjustment - Raw and In-Process" not in trial_balance(db_url)
    income = rows(ok("report", "income", "--format", "json", "--db", db_url).stdout)
    assert income["Operating income"]["absorption"] == "100800.00"
    assert income["Operating income"]["throughput"] == "99000.00"
    # 100,800 + 50 of PPV onto stock − 630 written down to NRV (the stools carry 4,200 + 30
    # of that variance; 300 × 12 = 3,600).
    assert income["Operating income"]["GAAP"] == "100220.00"
    gaap = rows(ok("report", "gaap", "--period", "2026-11", "--format", "json", "--db",
                   db_url).stdout)
    allowance = gaap["Inventory Allowance to Net Realisable Value"]
    assert (allowance["books"], allowance["GAAP bridge"], allowance["GAAP"]) == (
        "0.00", "-630.00", "-630.00")
    assert gaap["Finished Goods Inventory"]["GAAP"] == "4200.00"
    at_end = ok("report", "trial-balance", "--period", "2026-11", "--format", "json",
                "--db", db_url).stdout
    assert "Inventory Allowance to Net Realisable Value" in at_end  # the bridge's day
    ok("verify", "--db", db_url)


def test_income_needs_a_month(sqlite_url: str, tmp_path: Path) -> None:
    path = stool_without_close(tmp_path)
    ok("init", "--db", sqlite_url, "--from", str(path))
    none = bf("report", "income", "--db", sqlite_url)
    assert none.code == 2 and "no period is closed yet" in none.stderr
    ranged = bf("report", "gaap", "--from", "2026-11-01", "--db", sqlite_url)
    assert ranged.code == 2 and "--period YYYY-MM" in ranged.stderr
    open_month = ok("report", "income", "--period", "2026-11", "--db", sqlite_url)
    assert "Income statements for 2026-11" in open_month.stdout
