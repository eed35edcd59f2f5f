"""Reopening a closed period (issue 15, item 7): explicit and on the record (who, when,
why), only the latest closed period, and a close run twice refused."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import bf, doc, ok, trial_balance, write

PLANT = """
format: 1
name: reopen
currency: USD
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: STOOL, conversion_cost: 1.00}
boms:
  STOOL: [{item: SEAT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10, unit_price: 5.10, id: PO-1}
EVENTS"""
LATE = "type,id,date,item,qty,unit_price\nreceipt,PO-2,2026-11-28,SEAT,10,5.20\n"


def test_close_reopen_post_late_and_close_again(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT.replace("EVENTS", ""))
    ok("init", "--db", db_url, "--from", str(path))
    ok("post", str(path), "--db", db_url)
    ok("close", "2026-11", "--db", db_url)
    twice = bf("close", "2026-11", "--db", db_url)
    assert twice.code == 1 and "2026-11 is already closed" in twice.flat
    assert "backflush reopen 2026-11" in twice.flat
    late = write(tmp_path / "late.csv", LATE)
    assert bf("post", str(late), "--db", db_url).code == 1  # locked
    no_reason = bf("reopen", "2026-11", "--db", db_url)
    assert no_reason.code == 2 and "--reason" in no_reason.stderr
    out = ok("reopen", "2026-11", "--reason", "late supplier invoice", "--by", "ana",
             "--db", db_url)
    assert "Reopened 2026-11 (reopen-2026-11, by ana: late supplier invoice)" in out.stdout
    ok("post", str(late), "--db", db_url)
    ok("close", "2026-11", "--db", db_url)
    # 1.00 of price variance written off at the first close, 2.00 at the second
    assert trial_balance(db_url)["Cost of Goods Sold"] == "3.00"
    audit = doc(ok("explain", "reopen-2026-11", "--db", db_url, "--json"))["event"]
    assert audit["date"] == "2026-12-01"
    assert audit["content"]["reason"] == "late supplier invoice"
    assert audit["content"]["by"] == "ana"
    assert doc(ok("explain", "close-2026-11-2", "--db", db_url, "--json"))["entries"]
    ok("verify", "--db", db_url)


def test_only_the_latest_closed_period_reopens(tmp_path: Path) -> None:
    never = PLANT.replace("EVENTS", "  - {type: reopen, period: 2026-11, reason: why}")
    out = bf("run", str(write(tmp_path / "never.yaml", never)))
    assert out.code == 1 and "2026-11 is not closed; there is nothing to reopen" in out.flat
    later = PLANT.replace("EVENTS", """  - {type: close, period: 2026-11}
  - {type: close, period: 2026-12}
  - {type: reopen, period: 2026-11, reason: why}""")
    out = bf("run", str(write(tmp_path / "later.yaml", later)))
    assert out.code == 1 and "a later period is closed (through 2026-12-31)" in out.flat
    blank = PLANT.replace("EVENTS", """  - {type: close, period: 2026-11}
  - {type: reopen, period: 2026-11, reason: "  "}""")
    out = bf("run", str(write(tmp_path / "blank.yaml", blank)))
    assert out.code == 2 and "say why the period is reopened" in out.flat


def test_a_scenario_reopens_and_closes_again_and_a_reopen_is_not_reversible(
        tmp_path: Path) -> None:
    text = PLANT.replace("EVENTS", """  - {type: close, period: 2026-11}
  - {type: reopen, period: 2026-11, reason: late supplier invoice, by: ana}
  - {type: receipt, date: 2026-11-28, item: SEAT, qty: 10, unit_price: 5.20, id: PO-2}
  - {type: close, period: 2026-11, id: close-2026-11-2}""")
    d = doc(ok("run", str(write(tmp_path / "again.yaml", text)), "--json"))
    assert d["balances"]["Cost of Goods Sold"] == "3.00"
    assert {"event": "reopen-2026-11", "code": "period_reopened",
            "message": "2026-11 reopened by ana: late supplier invoice"} in d["alerts"]
    undo = text + "\n  - {type: reversal, date: 2026-12-02, of: reopen-2026-11, id: R1}"
    out = bf("run", str(write(tmp_path / "undo.yaml", undo)))
    assert out.code == 1 and "reopen" in out.flat
