"""Partial reversals through the command on a kept ledger: posted into the open period after
the original's period was closed, an over-reversal refused with nothing posted, and
``explain`` showing the link both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import STOOL, bf, doc, ok, snapshot, trial_balance, write


@pytest.fixture
def ledger(db_url: str) -> str:
    ok("init", "--db", db_url, "--from", str(STOOL))
    ok("post", str(STOOL), "--db", db_url)  # November, closed
    return db_url


def test_a_partial_reversal_in_the_open_period_then_a_refused_over_reversal(
        ledger: str, tmp_path: Path) -> None:
    part = write(tmp_path / "part.yaml", """
format: 1
events:
  - {type: reversal, id: R-1, date: 2026-12-01, of: WO-1, qty: 300, reason: miscounted}
""")
    ok("post", str(part), "--db", ledger)
    balances = trial_balance(ledger)
    assert "Finished Goods Inventory" not in balances  # 4,200.00 less 300 x 14.00: none
    d = doc(ok("explain", "R-1", "--db", ledger, "--json"))
    assert d["event"]["content"]["of"] == "WO-1" and d["event"]["content"]["qty"] == "300"
    assert d["event"]["date"] == "2026-12-01"
    assert d["entries"][0]["description"] == "Reversal of WO-1 (completion): 300 of 9800"
    original = doc(ok("explain", "WO-1", "--db", ledger, "--json"))
    assert original["reversals"] == [{"id": "R-1", "qty": "300"}]
    assert original["reversed_by"] is None
    assert "Reversed 300 of 9800 (R-1 300); 9500 left" in ok(
        "explain", "WO-1", "--db", ledger).flat

    before = snapshot(ledger)
    over = write(tmp_path / "over.yaml", """
format: 1
events:
  - {type: reversal, id: R-2, date: 2026-12-02, of: WO-1, qty: 9501}
""")
    out = bf("post", str(over), "--db", ledger)
    assert out.code == 1, out.output
    assert "cannot reverse 9501 of 'WO-1': it is a completion of 9800 STOOL; 300 reversed " \
           "already (R-1 300); 9500 left" in out.flat
    assert snapshot(ledger) == before  # nothing posted

    late = write(tmp_path / "late.yaml", """
format: 1
events:
  - {type: reversal, id: R-3, date: 2026-11-29, of: WO-1, qty: 1}
""")
    out = bf("post", str(late), "--db", ledger)
    assert out.code == 1 and "closed period" in out.flat, out.output
    assert snapshot(ledger) == before
