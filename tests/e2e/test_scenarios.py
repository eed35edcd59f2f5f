"""``run``, ``demo`` and ``compare``: the reports, the JSON document, the exit codes."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.e2e.support import STOOL, bf, doc, no_traceback, ok, trial_balance, write


def test_run_prints_the_reports() -> None:
    out = ok("run", str(STOOL))
    for heading in ("Journal", "Trial balance", "Stock on hand", "Variances measured"):
        assert heading in out.stdout
    assert "137,200.00" in out.stdout


def test_run_json_is_one_document_with_exact_decimals() -> None:
    d = doc(ok("run", str(STOOL), "--json"))
    assert d["balances"]["Raw and In-Process Inventory"] == "1600.00"
    assert d["balances"]["Finished Goods Inventory"] == "4200.00"
    assert d["variances"] == {"conversion": "2700.00", "purchase_price": "1000.00"}
    assert sum(D(v) for v in d["balances"].values()) == 0
    assert set(d) >= {"format", "journal", "balances", "stock", "variances", "alerts",
                      "duplicates", "errors"}
    assert d["errors"] == [] and d["duplicates"] == []
    assert all(isinstance(ln["debit"], str) for e in d["journal"] for ln in e["lines"])


def test_run_sequential_method() -> None:
    d = doc(ok("run", str(STOOL), "--json", "--method", "sequential"))
    assert d["balances"]["Materials Inventory"] == "1600.00"
    assert "Work in Process" not in d["balances"]
    assert {e["type"] for e in d["journal"]} >= {"issue", "conversion_applied", "completion"}


def test_run_no_journal_counts_the_entries() -> None:
    out = ok("run", str(STOOL), "--no-journal")
    assert "Journal: 6 entries" in out.stdout


def test_invalid_scenario_exits_2_and_names_file_line_entry_field(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", STOOL.read_text().replace("qty: 9800", "qty: -9800"))
    out = bf("run", str(bad))
    assert out.code == 2 and "nothing was posted" in out.stderr
    assert "bad.yaml:19, events[3] (WO-1), field 'qty'" in out.flat
    no_traceback(out)
    out = bf("run", str(bad), "--json")
    assert out.code == 2
    d = doc(out)
    assert d["journal"] == [] and d["errors"][0]["field"] == "qty"


def test_malformed_yaml_exits_2_with_the_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "format: 1\nitems: [\n  {code: A\n")
    out = bf("run", str(bad))
    assert out.code == 2 and "bad.yaml:" in out.stderr, out.output
    no_traceback(out)


def test_missing_file_exits_2(tmp_path: Path) -> None:
    out = bf("run", str(tmp_path / "nope.yaml"))
    assert out.code == 2 and "cannot read" in out.stderr


def test_refused_event_exits_1_and_posts_nothing(tmp_path: Path) -> None:
    text = STOOL.read_text().replace("disposition: write_off",
                                     "disposition: write_off\n  negative_stock: reject")
    bad = write(tmp_path / "short.yaml", text.replace("qty: 9800", "qty: 10001"))
    out = bf("run", str(bad), "--json")
    assert out.code == 1
    d = doc(out)
    assert d["journal"] == [] and d["errors"][0]["field"] == "qty"
    out = bf("run", str(bad))
    assert out.code == 1 and "An event was refused; nothing was posted" in out.stderr
    no_traceback(out)


def test_run_prints_the_duplicates_it_skipped(tmp_path: Path) -> None:
    text = STOOL.read_text().replace(
        "  - {type: close, period: 2026-11}",
        "  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.10, "
        "id: PO-1}\n  - {type: close, period: 2026-11}")
    twice = write(tmp_path / "twice.yaml", text)
    out = ok("run", str(twice))
    assert "Duplicates skipped: PO-1" in out.stdout
    assert doc(ok("run", str(twice), "--json"))["duplicates"] == ["PO-1"]


def test_demo_runs_the_office_chair_plant() -> None:
    d = doc(ok("demo", "--json"))
    assert len({e["event"] for e in d["journal"]}) >= 500
    assert set(d["variances"]) >= {"conversion", "purchase_price", "usage", "scrap"}
    assert any(a["code"] == "wrong_bom_line" and "CASTER-50" in a["message"]
               for a in d["alerts"])
    assert "Counts point at these BOM lines" in ok("demo").stdout
    # The line-side supermarket: December 1's orders and the queue they left (issue 16).
    (leg,) = d["kanban"]
    (parked,) = d["queue"]
    assert (parked["event"], parked["item"], parked["location"]) == ("WO-0274", "GAS-LIFT",
                                                                       "line-1")
    assert (leg["item"], leg["location"], leg["on_hand"]) == ("GAS-LIFT", "line-1", "0")
    assert D(leg["demand"]) == D(parked["qty"]) + 20  # CH-MESH's open order
    assert leg["containers"] == 2 and d["kpis"]["orders"]["released"] >= 100
    assert any(a["code"] == "queued" for a in d["alerts"])


def test_demo_db_keeps_the_ledger_for_report_and_explain(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    out = ok("demo", "--db", db)
    assert "The ledger is kept in" in out.stdout
    assert trial_balance(db) == doc(ok("demo", "--json"))["balances"]
    ok("verify", "--db", db)
    ok("report", "variances", "--db", db)
    first = doc(ok("report", "journal", "--db", db, "--format", "json"))[0]["event"]
    assert doc(ok("explain", first, "--db", db, "--json"))["event"]["id"] == first
    again = bf("demo", "--db", db)
    assert again.code == 4 and "already holds a ledger" in again.flat


def test_run_db_keeps_what_the_scenario_posted(db_url: str) -> None:
    ok("run", str(STOOL), "--db", db_url, "--json")
    assert trial_balance(db_url)["Finished Goods Inventory"] == "4200.00"
    out = bf("run", str(STOOL), "--db", db_url)
    assert out.code == 4 and "already holds a ledger" in out.flat
    assert trial_balance(db_url)["Finished Goods Inventory"] == "4200.00"


def test_compare_shows_both_methods_side_by_side() -> None:
    d = doc(ok("compare", str(STOOL), "--json"))
    assert d["entries"]["sequential"] > d["entries"]["backflush"]
    rows = {r["account"]: r for r in d["balances"]}
    assert rows["Raw and In-Process Inventory"]["difference"] == "1600.00"
    assert rows["Cost of Goods Sold"]["difference"] == "0.00"
    assert "Balances side by side" in ok("compare", str(STOOL)).stdout


def test_compare_of_an_invalid_file_exits_2(tmp_path: Path) -> None:
    out = bf("compare", str(tmp_path / "nope.yaml"))
    assert out.code == 2 and "cannot read" in out.stderr


def test_broken_invariants_are_errors_in_the_json_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from backflush.service_layer import reports

    monkeypatch.setattr(reports, "verify", lambda uow: ["entry #3 does not balance"])
    out = bf("run", str(STOOL), "--json")
    assert out.code == 1
    d = doc(out)
    assert d["balances"] and [e["message"] for e in d["errors"]] == [
        "invariant broken: entry #3 does not balance"]
    out = bf("run", str(STOOL))
    assert out.code == 1 and "Invariants broken:" in out.stderr and "entry #3" in out.stderr
