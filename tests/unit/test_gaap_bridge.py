"""The GAAP bridge, lower of cost and NRV, and the income statements of a closed period, on
the stool of posting-rules §2 with every figure computed by hand.

The month: 10,000 seats received at 5.10 (std 5.00: PPV 1,000), 30,000 legs at 1.00,
conversion incurred 61,500, 9,800 stools completed (std 14.00: 8.00 material, 6.00
conversion), 9,500 sold at 25.00 (sales 237,500). Ending stock: 200 seats (1,000.00), 600 legs
(600.00), 300 stools (2,400.00 material + 1,800.00 conversion). Cost of sales at standard
material: 76,000.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import ValidationError
from backflush.entrypoints.output.runs import run_json
from backflush.service_layer import reports
from backflush.service_layer.periods import period_figures
from backflush.service_layer.scenario import run_scenario
from backflush.service_layer.unit_of_work import UnitOfWork

STOOL = """\
format: 1
name: Stool, November
policy: {{trigger_points: [{triggers}], conversion: {conversion}, payables: {payables}}}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.10, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}}
  - {{type: conversion_incurred, date: 2026-11-30, amount: 61500, id: CV-1}}
  - {{type: completion, date: 2026-11-20, item: STOOL, qty: 9800, id: WO-1}}
  - {{type: sale, date: 2026-11-25, item: STOOL, qty: 9500, unit_price: 25, id: SO-1}}
  - {close}
"""
FULL, NO_COMPLETION, SALE_ONLY = "purchase, completion, sale", "purchase, sale", "sale"


def ran(triggers: str = FULL, close: str = "{type: close, period: 2026-11}",
        conversion: str = "inventoried", payables: str = "consumed") -> UnitOfWork:
    ledger = memory_ledger()
    text = STOOL.format(triggers=triggers, conversion=conversion, close=close,
                        payables=payables)
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    return ledger.unit_of_work(read_only=True)


BRIDGE = "{type: close, period: 2026-11, gaap_bridge: true}"


def bridge_lines(uow: UnitOfWork) -> dict[str, D]:
    (entry,) = [s.entry for s in uow.journal.entries() if s.entry.type == "gaap_bridge"]
    out: dict[str, D] = {}
    for ln in entry.lines:
        out[ln.account] = out.get(ln.account, D(0)) + ln.net
    return out


def test_absorption_and_throughput_side_by_side_reconcile_by_conversion_in_stock() -> None:
    with ran() as uow:
        p = period_figures(uow, "2026-11")
    # Absorption: COGS 133,000 at standard + under-applied 2,700 + PPV 1,000.
    assert (p.absorption.sales, p.absorption.cost_of_goods_sold,
            p.absorption.operating_income) == (D("237500.00"), D("136700.00"), D("100800.00"))
    # Throughput: materials 76,000 + PPV 1,000; all 61,500 of conversion a period cost.
    assert (p.throughput.materials, p.throughput.throughput, p.throughput.conversion,
            p.throughput.operating_income) == (D("77000.00"), D("160500.00"),
                                               D("61500.00"), D("99000.00"))
    # The difference: the conversion in the 300 unsold stools (300 × 6.00).
    assert p.carried == (D(0), D("1800.00"))
    assert p.absorption.operating_income - p.throughput.operating_income == D("1800.00")
    assert p.gaap is None and p.gaap_balances is None


def test_without_the_completion_trigger_both_statements_are_the_throughput_one() -> None:
    with ran(NO_COMPLETION) as uow:
        p = period_figures(uow, "2026-11")
    # Under-applied 4,500 (61,500 − 9,500 × 6) written off: COGS 133,000 + 4,500 + 1,000.
    assert p.absorption.cost_of_goods_sold == D("138500.00")
    assert p.absorption.operating_income == p.throughput.operating_income == D("99000.00")


def test_the_bridge_under_a_d_absorbs_the_conversion_of_unsold_stools_and_prorates_ppv() -> None:
    with ran(NO_COMPLETION, BRIDGE) as uow:
        lines = bridge_lines(uow)
        p = period_figures(uow, "2026-11")
    # Conversion of 300 stools held at material in RIP: 1,800 absorbed, out of COGS.
    # PPV 1,000 over material content: stock 1,000 + 600 + 2,400 = 4,000, COGS 76,000 →
    # 50.00 to the stock (all of it in RIP under {A,D}), 950.00 stays in COGS.
    assert lines == {"GAAP Adjustment - Raw and In-Process": D("1800.00"),
                     "Capitalized Variances - Raw and In-Process": D("50.00"),
                     "Cost of Goods Sold": D("-1850.00")}
    assert p.gaap_balances is not None
    gaap = dict(p.gaap_balances)
    assert gaap["Raw and In-Process Inventory"] == dict(p.balances)[
        "Raw and In-Process Inventory"] == D("4000.00")
    assert p.gaap is not None
    assert p.gaap.cost_of_goods_sold == D("138500.00") - D("1850.00")
    assert p.gaap.operating_income == D("100850.00")


@pytest.mark.parametrize(("triggers", "conversion"), [
    (FULL, "inventoried"), (NO_COMPLETION, "inventoried"), (FULL, "expensed"),
    ("completion, sale", "inventoried")])
def test_gaap_income_and_stock_are_the_same_whatever_the_policy(triggers: str,
                                                                conversion: str) -> None:
    """Stock at GAAP: 1,600 raw + 4,200 stools at full standard + 50 of PPV = 5,850; income
    237,500 − (133,000 + 2,700 + 950) = 100,850. Under {C,D} no PPV is ever measured (the
    receipts are off the books and AP is credited at standard on consumption), so its stock
    is 5,800 and its income 101,800; payables that reconcile are the GR/IR clearing's job."""
    with ran(triggers, BRIDGE, conversion) as uow:
        p = period_figures(uow, "2026-11")
    assert p.gaap_balances is not None and p.gaap is not None
    gaap = dict(p.gaap_balances)
    stock = sum((v for a, v in gaap.items() if "Inventory" in a or "GAAP Adjustment" in a
                 or "Capitalized" in a), D(0))
    if triggers.startswith("completion"):
        assert (stock, p.gaap.operating_income) == (D("5800.00"), D("101800.00"))
        assert gaap["Accounts Payable"] == D("-80000.00")  # 1,600 of parts in stores
    else:
        assert (stock, p.gaap.operating_income) == (D("5850.00"), D("100850.00"))


def test_expensed_conversion_is_absorbed_out_of_the_expense_account() -> None:
    with ran(FULL, BRIDGE, "expensed") as uow:
        lines = bridge_lines(uow)
    assert lines["GAAP Adjustment - Finished Goods"] == D("1800.00")
    assert lines["Conversion Costs Expensed"] == D("-1800.00")


def test_sale_only_brings_every_part_and_stool_on_the_books_against_payables() -> None:
    with ran(SALE_ONLY, BRIDGE) as uow:
        lines = bridge_lines(uow)
    # Nothing is on the books under {D}: 1,600 raw, 300 stools at 14.00; their material
    # (1,600 + 2,400) was never credited to AP; the stools' conversion came off COGS.
    assert lines == {"GAAP Adjustment - Raw and In-Process": D("1600.00"),
                     "GAAP Adjustment - Finished Goods": D("4200.00"),
                     "Accounts Payable": D("-4000.00"), "Cost of Goods Sold": D("-1800.00")}


def test_a_net_realisable_value_below_cost_writes_the_stock_down() -> None:
    close = "{type: close, period: 2026-11, gaap_bridge: true, nrv: {STOOL: 12.00, SEAT: 9}}"
    with ran(FULL, close) as uow:
        lines = bridge_lines(uow)
        p = period_figures(uow, "2026-11")
    # Seats at NRV 9.00, above what they carry, stay at cost.
    # The stools carry 4,200.00 at standard + 30.00 of the price variance prorated beside
    # finished goods (all of it theirs): 4,230.00 down to 300 × 12.00 = 3,600.00.
    assert lines["Inventory Allowance to Net Realisable Value"] == D("-630.00")
    # COGS: −50 of PPV to stock, +630 write-down.
    assert lines["Cost of Goods Sold"] == D("580.00")
    assert p.gaap is not None and p.gaap.operating_income == D("100220.00")


def test_the_bridge_is_reversed_on_the_first_day_of_the_next_period() -> None:
    with ran(NO_COMPLETION, BRIDGE) as uow:
        entries = [s.entry for s in uow.journal.entries()
                   if s.entry.type in ("gaap_bridge", "gaap_bridge_reversal")]
        at_end = dict(reports.trial_balance(uow, through=date(2026, 11, 30)))
        next_day = dict(reports.trial_balance(uow, through=date(2026, 12, 1)))
        now = dict(reports.trial_balance(uow))
    assert [(e.type, e.date) for e in entries] == [
        ("gaap_bridge", date(2026, 11, 30)), ("gaap_bridge_reversal", date(2026, 12, 1))]
    assert at_end["GAAP Adjustment - Raw and In-Process"] == D("1800.00")
    assert "GAAP Adjustment - Raw and In-Process" not in next_day
    assert next_day == now
    with ran(NO_COMPLETION) as uow:
        assert dict(reports.trial_balance(uow)) == now  # the books go on at standard


def test_periods_in_the_json_document() -> None:
    with ran(FULL, "{type: close, period: 2026-11, gaap_bridge: true, nrv: {STOOL: 12}}"
             ) as uow:
        doc = run_json(uow, [])
    (period,) = doc["periods"]
    assert period["period"] == "2026-11"
    assert period["balances"]["Finished Goods Inventory"] == "4200.00"
    assert period["gaap_balances"]["Inventory Allowance to Net Realisable Value"] == "-630.00"
    assert period["income_statement"]["absorption"]["operating_income"] == "100800.00"
    assert period["income_statement"]["throughput"]["operating_income"] == "99000.00"
    assert period["income_statement"]["gaap"]["operating_income"] == "100220.00"
    assert period["variance_analysis"]["families"] == {"conversion": "2700.00",
                                                       "purchase_price": "1000.00"}


def test_bad_net_realisable_values_are_refused_by_field_and_nothing_posts() -> None:
    for close, words in [
            ("{type: close, period: 2026-11, nrv: {STOOL: 12}}", "gaap_bridge: true"),
            ("{type: close, period: 2026-11, gaap_bridge: true, nrv: {STOOL: -1}}",
             "negative"),
            ("{type: close, period: 2026-11, gaap_bridge: true, nrv: {STOOL: abc}}", "")]:
        text = STOOL.format(triggers=FULL, conversion="inventoried", close=close,
                            payables="consumed")
        with pytest.raises(ValidationError) as caught:
            scenario_from_text(text)
        (problem,) = caught.value.problems
        assert problem.field is not None and "nrv" in problem.field, problem
        assert words in problem.message
    ledger = memory_ledger()
    text = STOOL.format(triggers=FULL, conversion="inventoried", payables="consumed",
                        close="{type: close, period: 2026-11, gaap_bridge: true, "
                        "nrv: {CHAIR: 12}}")
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert not outcome.ok and outcome.refused
    (problem,) = outcome.errors
    assert problem.field == "nrv" and "CHAIR" in problem.message
    with ledger.unit_of_work(read_only=True) as uow:
        assert list(uow.journal.entries()) == []  # the whole run was refused


@pytest.mark.parametrize("triggers", ["completion, sale", SALE_ONLY])
def test_gr_ir_clearing_makes_payables_what_suppliers_invoiced(triggers: str) -> None:
    """``payables: received``: AP at the invoice on receipt (81,000 = 51,000 + 30,000), the
    parts at standard on GR/IR Clearing (80,000) with the 1,000 price variance measured,
    the clearing relieved at standard as the parts are consumed: 78,400 by the completion
    under {C,D}, 76,000 by the sale under {D}. What is left is the parts received and not
    consumed (1,600 under {C,D}; 1,600 + 2,400 in the unsold stools under {D})."""
    with ran(triggers, payables="received") as uow:
        balances = dict(reports.trial_balance(uow))
        p = period_figures(uow, "2026-11")
    assert balances["Accounts Payable"] == D("-81000.00")
    assert balances["GR/IR Clearing"] == (D("1600.00") if triggers != SALE_ONLY
                                          else D("4000.00"))
    assert "Purchase Price Variance" not in balances  # measured, then written off at close
    assert p.absorption.cost_of_goods_sold == (D("136700.00") if triggers != SALE_ONLY
                                               else D("138500.00"))


@pytest.mark.parametrize("triggers", ["completion, sale", SALE_ONLY])
def test_with_gr_ir_the_gaap_figures_are_the_same_whatever_the_policy(triggers: str) -> None:
    with ran(triggers, BRIDGE, payables="received") as uow:
        lines = bridge_lines(uow)
        p = period_figures(uow, "2026-11")
    assert p.gaap is not None and p.gaap_balances is not None
    assert p.gaap.operating_income == D("100850.00")  # as under {A,C,D}, {A,D}, expensed
    gaap = dict(p.gaap_balances)
    assert "GR/IR Clearing" not in gaap  # the parts moved onto the GAAP adjustment
    assert gaap["Accounts Payable"] == D("-81000.00")
    assert lines["GR/IR Clearing"] == -(D("1600.00") if triggers != SALE_ONLY
                                        else D("4000.00"))


def test_payables_received_changes_nothing_with_the_purchase_trigger() -> None:
    with ran(FULL, payables="received") as a, ran(FULL) as b:
        assert reports.trial_balance(a) == reports.trial_balance(b)


def test_a_reopen_withdraws_the_bridge_and_a_new_close_bridges_afresh() -> None:
    """Keep the price variance open, close with the bridge (it prorates the 1,000.00), reopen,
    receive 10 more seats at 5.50 (5.00 more), close again with the bridge: it prorates the
    1,005.00 once, and nothing of the first bridge is left."""
    close = ("{type: close, period: 2026-11, gaap_bridge: true}\n"
             "  - {type: reopen, period: 2026-11, reason: late invoice, id: RO-1}\n"
             "  - {type: receipt, date: 2026-11-29, item: SEAT, qty: 10, unit_price: 5.50, "
             "id: PO-3}\n"
             "  - {type: close, period: 2026-11, gaap_bridge: true, id: close-2026-11-2}")
    ledger = memory_ledger()
    text = STOOL.format(triggers=FULL, conversion="inventoried", payables="consumed",
                        close=close).replace(
        "payables: consumed}", "payables: consumed, disposition: {purchase_price: keep}}")
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    with ledger.unit_of_work(read_only=True) as uow:
        p = period_figures(uow, "2026-11")
        at_end = dict(reports.trial_balance(uow, through=date(2026, 11, 30)))
        withdrawn = [s.entry for s in uow.journal.entries_of("RO-1")]
        now = dict(reports.trial_balance(uow))
    assert [e.type for e in withdrawn] == ["gaap_bridge", "gaap_bridge_reversal"]
    assert p.gaap_balances is not None
    gaap = dict(p.gaap_balances)
    assert "Purchase Price Variance" not in gaap  # the whole 1,005.00 prorated, once
    assert dict(p.balances)["Purchase Price Variance"] == D("1005.00")  # kept on the books
    stock_share = gaap["Capitalized Variances - Raw and In-Process"] + gaap[
        "Capitalized Variances - Finished Goods"]
    assert at_end["Capitalized Variances - Raw and In-Process"] + at_end[
        "Capitalized Variances - Finished Goods"] == stock_share
    assert now["Purchase Price Variance"] == D("1005.00")  # the books go on at standard


def test_the_bridge_and_its_reversal_are_not_variances_measured() -> None:
    """The reversal, dated the next period, moves a kept price variance back: December
    measures no variance of its own."""
    close = ("{type: close, period: 2026-11, gaap_bridge: true}\n"
             "  - {type: close, period: 2026-12}")
    ledger = memory_ledger()
    text = STOOL.format(triggers=FULL, conversion="inventoried", payables="consumed",
                        close=close).replace(
        "payables: consumed}", "payables: consumed, disposition: {purchase_price: keep}}")
    assert run_scenario(ledger.unit_of_work(), scenario_from_text(text)).ok
    with ledger.unit_of_work(read_only=True) as uow:
        december = reports.variance_report(uow, reports.Window(date(2026, 12, 1),
                                                               date(2026, 12, 31)))
        november = reports.variance_report(uow, reports.Window(date(2026, 11, 1),
                                                               date(2026, 11, 30)))
    assert december == {}
    assert november["purchase_price"] == D("1000.00")


def test_a_bridge_asked_for_with_nothing_to_adjust_shows_gaap_as_the_books() -> None:
    text = STOOL.format(triggers=FULL, conversion="inventoried", payables="consumed",
                        close=BRIDGE).replace("unit_price: 5.10", "unit_price: 5.00")
    text = text.replace("amount: 61500", "amount: 58800")
    ledger = memory_ledger()
    assert run_scenario(ledger.unit_of_work(), scenario_from_text(text)).ok
    with ledger.unit_of_work(read_only=True) as uow:
        assert not [s for s in uow.journal.entries() if s.entry.type == "gaap_bridge"]
        p = period_figures(uow, "2026-11")
    assert p.gaap_balances == p.balances and p.gaap is not None
    assert p.gaap.operating_income == p.absorption.operating_income
