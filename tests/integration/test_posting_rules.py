"""Posting rules beyond the illustration: every trigger-point variant and every event kind."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.support import Run

pytestmark = pytest.mark.usefixtures("backend")

RIP, FG, COGS = "Raw and In-Process Inventory", "Finished Goods Inventory", "Cost of Goods Sold"
AP, PPV, USAGE = "Accounts Payable", "Purchase Price Variance", "Material Usage Variance"
SCRAP, EFF = "Scrap Variance", "Conversion Efficiency Variance"
CTRL, APPLIED = "Conversion Costs Control", "Conversion Costs Applied"

STOOL = """
format: 1
policy: {policy}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
{events}
"""


def stool(policy: str, *events: str) -> Run:
    r = Run(STOOL.format(policy=policy, events="\n".join(f"  - {e}" for e in events)))
    assert r.outcome.ok, r.outcome.errors
    assert r.verify() == []
    return r


RECEIPTS = ("{type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.10, id: P1}",
            "{type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.00, id: P2}")


def test_cd_variant_credits_payables_at_standard_at_completion() -> None:
    r = stool("{trigger_points: [completion, sale]}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: sale, date: 2026-11-04, item: STOOL, qty: 8, id: S1}")
    assert r.entry_lines("P1") == {}
    assert [a.code for a in r.ledger.alerts()] == ["price_variance_not_recorded"]
    assert r.entry_lines("W1") == {FG: D(140), AP: D(-80), APPLIED: D(-60)}
    assert r.entry_lines("S1") == {COGS: D(112), FG: D(-112)}


def test_d_variant_recognises_everything_at_sale() -> None:
    r = stool("{trigger_points: [sale]}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: sale, date: 2026-11-04, item: STOOL, qty: 8, unit_price: 25, id: S1}")
    assert r.entry_lines("W1") == {}
    assert r.entry_lines("S1") == {COGS: D(112), AP: D(-64), APPLIED: D(-48),
                                   "Accounts Receivable": D(200), "Sales Revenue": D(-200)}


def test_assembly_scrap_at_completion_goes_to_scrap_variance_at_full_standard() -> None:
    r = stool("{}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, scrap_qty: 2, id: W1}")
    assert r.entry_lines("W1") == {FG: D(140), SCRAP: D(28), RIP: D(-96), APPLIED: D(-72)}


def test_component_scrap_and_count_post_variances_and_point_at_the_bom_line() -> None:
    r = stool("{}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 90, id: W1}",
              "{type: scrap, date: 2026-11-04, item: SEAT, qty: 2, reason: torn, id: X1}",
              "{type: count, date: 2026-11-30, item: LEG, qty: 21, id: C1}")
    assert r.entry_lines("X1") == {SCRAP: D(10), RIP: D(-10)}
    # LEG book 300 - 270 = 30, counted 21: 9 short at standard 1.00
    assert r.entry_lines("C1") == {USAGE: D(9), RIP: D(-9)}
    [finding] = r.ledger.findings()
    assert (finding.parent, finding.component, finding.bom_qty) == ("STOOL", "LEG", D(3))
    assert finding.suggested_qty == D("3.1")  # 279 used for 90 stools


def test_reported_hours_apply_actual_hours_and_post_an_efficiency_variance() -> None:
    text = """
    format: 1
    items:
      - {code: A, standard_cost: 2.00}
      - {code: P, type: made}
    boms: {P: [{item: A, qty: 2}]}
    work_centers: [{code: WELD, labor_rate: 30, overhead_rate: 60}]
    routings: {P: [{operation: 10, work_center: WELD, run_hours: 0.5}]}
    events:
      - {type: receipt, date: 2026-11-01, item: A, qty: 100, unit_price: 2, id: R}
      - {type: completion, date: 2026-11-02, item: P, qty: 10, hours: {WELD: 6}, id: W}
    """
    r = Run(text)
    assert r.outcome.ok, r.outcome.errors
    # standard 5 h x 90 = 450, actual 6 h x 90 = 540 applied; FG at standard 40 + 450
    assert r.entry_lines("W") == {FG: D(490), RIP: D(-40), APPLIED: D(-540), EFF: D(90)}
    assert r.verify() == []


def test_multilevel_intermediate_stays_in_rip_and_finished_goes_to_fg() -> None:
    text = """
    format: 1
    items:
      - {code: A, standard_cost: 1.00}
      - {code: SUB, conversion_cost: 0.50}
      - {code: TOP, conversion_cost: 2.00}
    boms:
      SUB: [{item: A, qty: 2, scrap: 0.05}]
      TOP: [{item: SUB, qty: 1}]
    events:
      - {type: receipt, date: 2026-11-01, item: A, qty: 100, unit_price: 1, id: R}
      - {type: completion, date: 2026-11-02, item: SUB, qty: 10, id: W1}
      - {type: completion, date: 2026-11-03, item: TOP, qty: 10, id: W2}
    """
    r = Run(text)
    assert r.outcome.ok
    # SUB = 2 x 1.05 x 1.00 + 0.50 = 2.60: Dr RIP 26, Cr RIP 21, Cr Applied 5 (netted by account)
    assert r.entry_lines("W1") == {RIP: D(5), APPLIED: D(-5)}
    assert r.entry_lines("W2") == {FG: D(46), RIP: D(-26), APPLIED: D(-20)}
    stock = {item: q for (item, _), q in r.stock().items()}
    assert stock == {"A": "79", "TOP": "10"}
    assert r.verify() == []


def test_reversal_posts_the_exact_negation_and_references_the_original() -> None:
    r = stool("{}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: reversal, date: 2026-11-04, of: W1, id: REV1}")
    assert r.entry_lines("REV1") == {k: -v for k, v in r.entry_lines("W1").items()}
    assert {item: q for (item, _), q in r.stock().items()} == {"SEAT": "100", "LEG": "300"}
    [entry] = [s.entry for s in r.ledger.entries() if s.entry.event_id == "REV1"]
    assert entry.description == "Reversal of W1 (completion)"


def test_negative_stock_reject_refuses_the_event_and_posts_nothing() -> None:
    short = "{type: completion, date: 2026-11-03, item: STOOL, qty: 101, id: W1}"
    r = Run(STOOL.format(policy="{negative_stock: reject}",
                         events="\n".join(f"  - {e}" for e in (*RECEIPTS, short))))
    assert not r.outcome.ok
    [err] = r.outcome.errors
    assert err.entry == "events[2] (W1)" and err.field == "qty"
    assert "SEAT at stores: needs 101, has 100" in err.message
    assert list(r.ledger.entries()) == [] and r.ledger.stock() == {}


def test_negative_stock_queue_parks_the_short_issue_until_stock_arrives() -> None:
    r = stool("{negative_stock: queue}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 110, id: W1}",
              "{type: receipt, date: 2026-11-05, item: SEAT, qty: 50, unit_price: 5, id: P3}")
    w1 = r.entry_lines("W1")
    # 100 SEAT issued, 10 parked on the clearing account; 300 LEG of 330 issued, 30 parked
    assert w1 == {FG: D(1540), RIP: D(-800), "Pending Backflush Clearing": D(-80),
                  APPLIED: D(-660)}
    assert r.ledger.pending_totals() == {"LEG": D(30)}
    cleared = r.entry_lines("P3", "pending_cleared")
    assert cleared == {RIP: D(-50), "Pending Backflush Clearing": D(50)}
    assert {item: q for (item, _), q in r.stock().items()}["SEAT"] == "40"


def test_allow_negative_stock_posts_and_alerts() -> None:
    r = stool("{negative_stock: allow}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 1, id: W1}")
    assert {a.code for a in r.ledger.alerts()} == {"negative_stock"}
    assert r.balance(RIP) == D(-8)


def test_transfer_moves_stock_between_locations_without_an_entry() -> None:
    r = stool("{}", *RECEIPTS,
              "{type: transfer, date: 2026-11-03, item: LEG, qty: 30, from: stores, to: line, "
              "id: T1}")
    assert r.entry_lines("T1") == {}
    assert r.stock()[("LEG", "line")] == "30"


def test_cost_change_revalues_stock_on_hand_and_parents() -> None:
    r = stool("{}", *RECEIPTS,
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: cost_change, date: 2026-11-10, item: SEAT, standard_cost: 5.50, id: K1}")
    # 90 SEAT + 10 STOOL each up 0.50
    assert r.entry_lines("K1") == {RIP: D(45), FG: D(5), "Revaluation Variance": D(-50)}
    assert r.ledger.costs.number == 2 and r.ledger.costs["STOOL"].unit_cost == D("14.50")


def test_throughput_view_expenses_conversion() -> None:
    r = stool("{conversion: expensed}", *RECEIPTS,
              "{type: conversion_incurred, date: 2026-11-03, amount: 70, id: CV}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}")
    assert r.entry_lines("CV") == {"Conversion Costs Expensed": D(70),
                                   "Wages and Other Accounts": D(-70)}
    assert r.entry_lines("W1") == {FG: D(80), RIP: D(-80)}


def test_conversion_incurred_to_a_chosen_credit_account() -> None:
    r = stool("{}", "{type: conversion_incurred, date: 2026-11-03, amount: 70, element: labor, "
              "credit: Wages Payable, id: CV}")
    assert r.entry_lines("CV") == {CTRL: D(70), "Wages Payable": D(-70)}


def test_opening_stock_and_balances() -> None:
    text = STOOL.format(policy="{}", events="  - {type: sale, date: 2026-11-03, item: STOOL, "
                        "qty: 1, id: S1}").replace(
        "events:", "opening:\n  stock: [{item: STOOL, qty: 100}, {item: LEG, qty: 10}]\n"
        "  balances: {Finished Goods Inventory: 1400.00, Retained Earnings: -1400.00}\nevents:")
    r = Run(text)
    assert r.outcome.ok, r.outcome.errors
    assert r.entry_lines("opening") == {FG: D(1400), "Retained Earnings": D(-1400), RIP: D(10),
                                        "Opening Balance Equity": D(-10)}
    assert r.verify() == []


def test_opening_balances_must_agree_with_opening_stock() -> None:
    text = STOOL.format(policy="{}", events="").replace(
        "events:", "opening:\n  stock: [{item: STOOL, qty: 100}]\n"
        "  balances: {Finished Goods Inventory: 1000.00, Retained Earnings: -1000.00}\nevents:")
    r = Run(text)
    assert not r.outcome.ok
    assert "does not equal the opening stock at standard, 1400.00" in r.outcome.errors[0].message


def test_proration_spreads_exactly_over_ending_inventory_and_cogs() -> None:
    r = stool("{disposition: prorate}", *RECEIPTS,
              "{type: conversion_incurred, date: 2026-11-03, amount: 70, id: CV}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: sale, date: 2026-11-04, item: STOOL, qty: 7, id: S1}",
              "{type: close, period: 2026-11, id: CL}")
    close = r.entry_lines("CL")
    # conversion 70 - 60 = 10 over FG (3 x 6) and COGS (7 x 6): 3.00 and 7.00
    # PPV 10 over RIP material (90 SEAT + 270 LEG = 720), FG 3 x 8 = 24, COGS 7 x 8 = 56
    assert close[CTRL] == D(-70) and close[APPLIED] == D(60) and close[PPV] == D(-10)
    assert close["Capitalized Variances - Finished Goods"] == D("3.00") + D("0.30")
    assert close["Capitalized Variances - Raw and In-Process"] == D("9.00")
    assert close[COGS] == D("7.00") + D("0.70")
    assert sum(close.values()) == 0


def test_keep_leaves_a_material_variance_open() -> None:
    r = stool("{disposition: {conversion: write_off, purchase_price: keep}}", *RECEIPTS,
              "{type: close, period: 2026-11, id: CL}")
    assert r.balance(PPV) == D(10)


def test_two_roles_can_share_one_account_name() -> None:
    r = stool("{accounts: {conversion_control: Conversion Costs, "
              "conversion_applied: Conversion Costs}}", *RECEIPTS,
              "{type: conversion_incurred, date: 2026-11-03, amount: 70, id: CV}",
              "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
              "{type: close, period: 2026-11, id: CL}")
    assert r.entry_lines("CL") == {"Conversion Costs": D(-10), PPV: D(-10), COGS: D(20)}
    assert r.balance("Conversion Costs") == 0


def test_bom_version_change_backflushes_the_new_bom_and_records_the_difference() -> None:
    text = STOOL.format(policy="{}", events="\n".join(f"  - {e}" for e in (
        *RECEIPTS, "{type: completion, date: 2026-11-20, item: STOOL, qty: 10, id: W1}")))
    text = text.replace("  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]",
                        "  STOOL:\n    versions:\n"
                        "      - {version: 1, effective: 2026-01-01, lines: [{item: SEAT, qty: 1},"
                        " {item: LEG, qty: 3}]}\n"
                        "      - {version: 2, effective: 2026-11-15, lines: [{item: SEAT, qty: 1},"
                        " {item: LEG, qty: 4}]}")
    r = Run(text)
    assert r.outcome.ok, r.outcome.errors
    assert r.entry_lines("W1") == {FG: D(140), RIP: D(-90), APPLIED: D(-60), USAGE: D(10)}
    assert r.verify() == []


@pytest.mark.parametrize("policy", ["{trigger_points: [purchase, completion, sale]}"])
def test_sequential_method_writes_more_entries_and_ends_with_no_wip(policy: str) -> None:
    from backflush.domain.policy import Method

    events = "\n".join(f"  - {e}" for e in (
        *RECEIPTS, "{type: conversion_incurred, date: 2026-11-03, amount: 70, id: CV}",
        "{type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}",
        "{type: sale, date: 2026-11-04, item: STOOL, qty: 7, id: S1}",
        "{type: close, period: 2026-11, id: CL}"))
    back = Run(STOOL.format(policy=policy, events=events))
    back_entries = len(list(back.ledger.entries()))
    total_back = back.balance(RIP) + back.balance(FG) + back.balance(COGS)
    seq = Run(STOOL.format(policy=policy, events=events), method=Method.SEQUENTIAL)
    assert seq.outcome.ok and seq.verify() == []
    assert seq.entry_lines("W1", "issue") == {"Work in Process": D(80), "Materials Inventory":
                                              D(-80)}
    assert seq.entry_lines("W1", "conversion_applied") == {"Work in Process": D(60),
                                                           APPLIED: D(-60)}
    assert seq.entry_lines("W1", "completion") == {FG: D(140), "Work in Process": D(-140)}
    assert seq.balance("Work in Process") == 0
    assert len(list(seq.ledger.entries())) > back_entries
    total_seq = seq.balance("Materials Inventory") + seq.balance(FG) + seq.balance(COGS)
    assert total_back == total_seq
