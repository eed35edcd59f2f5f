"""Regression tests of what issue 15's review found (its item 9) and of ``compare``'s note
(item 8): each fails on the code before the fix."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import STOOL, bf, doc, ok, write

OPENING = """
format: 1
name: opening stock brought forward
currency: USD
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
opening:
  stock: [{item: SEAT, qty: 100}, {item: LEG, qty: 300}]
  balances: {Raw and In-Process Inventory: 800.00, Opening Balance Equity: -800.00}
events:
  - {type: completion, date: 2026-11-20, item: STOOL, qty: 50, id: WO-1}
"""

HOURS = """
format: 1
name: reported hours
currency: USD
policy: {conversion: CONVERSION}
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: STOOL}
boms:
  STOOL: [{item: SEAT, qty: 1}]
work_centers: [{code: ASSY, rate: 60}, {code: PAINT, rate: 40}]
routings:
  STOOL: [{operation: 10, work_center: ASSY, run_hours: 0.1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.00, id: PO-1}
  - {type: completion, date: 2026-11-20, item: STOOL, qty: 10, hours: {ASSY: 2}, id: WO-1}
  - {type: completion, date: 2026-11-21, item: STOOL, qty: 10, hours: {PAINT: 2}, id: WO-2}
"""


def test_sequential_tracking_counts_opening_raw_stock_once(tmp_path: Path) -> None:
    path = write(tmp_path / "opening.yaml", OPENING)
    seq = doc(ok("run", str(path), "--method", "sequential", "--json"))["balances"]
    # 800.00 of parts brought forward, 400.00 of them used: 400.00 left in Materials
    assert seq["Materials Inventory"] == "400.00"
    assert "Raw and In-Process Inventory" not in seq
    assert seq["Opening Balance Equity"] == "-800.00"
    both = doc(ok("compare", str(path), "--json"))
    assert both["inventory"] == {"backflush": "1100.00", "sequential": "1100.00"}


def test_opening_balances_with_no_stock_behind_them_are_invalid_input(tmp_path: Path) -> None:
    bad = OPENING.replace("Opening Balance Equity: -800.00",
                          "Finished Goods Inventory: 50.00, Opening Balance Equity: -850.00")
    path = write(tmp_path / "bad.yaml", bad)
    out = bf("run", str(path))
    assert out.code == 2 and "The scenario is invalid" in out.stderr
    assert "50.00 of inventory with no opening stock behind it" in out.stderr
    as_json = bf("run", str(path), "--json")
    assert as_json.code == 2
    errors = doc(as_json)["errors"]
    assert errors and errors[0]["field"] == "Finished Goods Inventory"


def test_reported_hours_that_are_not_applied_raise_an_alert(tmp_path: Path) -> None:
    path = write(tmp_path / "expensed.yaml", HOURS.replace("CONVERSION", "expensed"))
    alerts = doc(ok("run", str(path), "--json"))["alerts"]
    assert [(a["event"], a["code"]) for a in alerts] == [("WO-1", "hours_not_used"),
                                                         ("WO-2", "hours_not_used")]
    assert "conversion: expensed" in alerts[0]["message"]


def test_hours_at_a_work_center_off_the_routing_raise_an_alert(tmp_path: Path) -> None:
    path = write(tmp_path / "inventoried.yaml", HOURS.replace("CONVERSION", "inventoried"))
    d = doc(ok("run", str(path), "--json"))
    assert [(a["event"], a["code"]) for a in d["alerts"]] == [("WO-2", "hours_off_routing")]
    assert "does not use PAINT (2 h)" in d["alerts"][0]["message"]
    # WO-1: 2 h at ASSY against 1 h standard (60.00); WO-2: 80.00 of PAINT against none
    assert d["balances"]["Conversion Efficiency Variance"] == "140.00"


def test_compare_states_the_difference_it_finds(tmp_path: Path) -> None:
    same = ok("compare", str(STOOL)).flat
    assert "Inventory is 5,800.00 both ways" in same
    text = STOOL.read_text().replace("[purchase, completion, sale]", "[purchase, sale]")
    differs = ok("compare", str(write(tmp_path / "ps.yaml", text))).flat
    assert "the totals agree" not in differs
    assert "Inventory differs: backflush 4,000.00, sequential 5,800.00" in differs


SHORT = """
format: 1
name: short of seats
currency: USD
policy: {negative_stock: NEGATIVE}
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: STOOL, conversion_cost: 1.00}
boms:
  STOOL: [{item: SEAT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10, unit_price: 5.00, id: PO-1}
  - {type: completion, date: 2026-11-20, item: STOOL, qty: 12, id: WO-1}
CLOSE"""


def test_a_close_over_stock_below_zero_or_pending_issues_is_refused(tmp_path: Path) -> None:
    for policy, what in (("allow", "1 item below zero (SEAT -2)"),
                         ("queue", "1 item with issues pending (SEAT 2)")):
        text = SHORT.replace("NEGATIVE", policy)
        path = write(tmp_path / f"{policy}.yaml", text.replace(
            "CLOSE", "  - {type: close, period: 2026-11}"))
        out = bf("run", str(path))
        assert out.code == 1 and f"2026-11 has {what}" in out.flat, out.output
        assert "backflush close --force" in out.flat
        forced = write(tmp_path / f"{policy}-forced.yaml", text.replace(
            "CLOSE", "  - {type: close, period: 2026-11, force: true}"))
        alerts = doc(ok("run", str(forced), "--json"))["alerts"]
        assert {"event": "close-2026-11", "code": "close_forced",
                "message": f"2026-11 closed by force with {what}"} in alerts


def test_close_force_through_the_command_says_what_it_forced(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path / "short.yaml", SHORT.replace("NEGATIVE", "allow")
                 .replace("CLOSE", ""))
    ok("init", "--db", sqlite_url, "--from", str(path))
    ok("post", str(path), "--db", sqlite_url)
    refused = bf("close", "2026-11", "--db", sqlite_url)
    assert refused.code == 1 and "1 item below zero (SEAT -2)" in refused.flat
    done = ok("close", "2026-11", "--db", sqlite_url, "--force")
    assert "Closed 2026-11" in done.stdout
    assert "Forced: 2026-11 closed by force with 1 item below zero (SEAT -2)" in done.stdout
