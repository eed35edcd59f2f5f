"""The bases of proration at close (issue 15, item 2), and abnormal scrap as a period cost,
on the stool of posting-rules §2 with every figure computed by hand.

After the month: 200 seats (1,000.00) and, after a count, 500 legs (500.00) in stores;
300 stools in finished goods (2,400.00 of material content); cost of sales at standard
material 76,000.00. The count finds 100 legs missing: a usage variance of 100.00.
"""

from __future__ import annotations

from decimal import Decimal as D

from backflush.adapters.files import scenario_from_text
from backflush.bootstrap import memory_ledger
from backflush.service_layer import reports
from backflush.service_layer.periods import period_figures
from backflush.service_layer.scenario import run_scenario
from backflush.service_layer.unit_of_work import UnitOfWork

STOOL = """\
format: 1
name: Stool, November
policy: {{disposition: {{conversion: write_off, purchase_price: prorate, usage: prorate,
          scrap: prorate}}}}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: STOOL, conversion_cost: 6.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.10, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}}
  - {{type: conversion_incurred, date: 2026-11-30, amount: 58800, id: CV-1}}
  - {{type: completion, date: 2026-11-20, item: STOOL, qty: 9800, id: WO-1}}
  - {{type: sale, date: 2026-11-25, item: STOOL, qty: 9500, unit_price: 25, id: SO-1}}
  - {{type: count, date: 2026-11-30, item: LEG, qty: 500, id: CC-1}}
{more}  - {{type: close, period: 2026-11}}
"""


def ran(more: str = "") -> UnitOfWork:
    ledger = memory_ledger()
    outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(STOOL.format(more=more)))
    assert outcome.ok, outcome.errors
    return ledger.unit_of_work(read_only=True)


def close_lines(uow: UnitOfWork) -> dict[tuple[str, str | None], D]:
    (entry,) = [s.entry for s in uow.journal.entries() if s.entry.type == "close"]
    out: dict[tuple[str, str | None], D] = {}
    for ln in entry.lines:
        key = (ln.account, ln.family)
        out[key] = out.get(key, D(0)) + ln.net
    return out


def test_usage_is_prorated_onto_made_items_and_cost_of_sales_never_onto_parts() -> None:
    with ran() as uow:
        lines = close_lines(uow)
    # 100.00 over 2,400 (stools) and 76,000 (COGS): 3.0612 → 3.06 to the stools' side.
    assert lines[("Capitalized Variances - Finished Goods", "usage")] == D("3.06")
    assert ("Capitalized Variances - Raw and In-Process", "usage") not in lines


def test_price_variance_is_prorated_onto_parts_too_with_the_remainder_cents() -> None:
    with ran() as uow:
        lines = close_lines(uow)
    # 1,000.00 over 1,500 (parts), 2,400 (stools), 76,000 (COGS) = 79,900: 1,877.35,
    # 3,003.75 and 95,118.90 cents; floors 18.77 + 30.03 + 951.18 = 999.98, and the two cents
    # left go to the largest remainders (COGS .90, stools .75): 18.77, 30.04, 951.19.
    assert lines[("Capitalized Variances - Raw and In-Process", "purchase_price")] == D("18.77")
    assert lines[("Capitalized Variances - Finished Goods", "purchase_price")] == D("30.04")
    cogs = lines[("Cost of Goods Sold", None)]
    assert cogs == D("951.19") + D("96.94")  # the price and usage shares of cost of sales


def test_abnormal_scrap_is_a_period_cost_never_a_variance() -> None:
    abnormal = ("  - {type: scrap, date: 2026-11-29, item: SEAT, qty: 10, reason: flood, "
                "abnormal: true, id: SC-1}\n")
    with ran(abnormal) as uow:
        (entry,) = [s.entry for s in uow.journal.entries_of("SC-1")]
        variances = reports.variance_report(uow)
        lines = close_lines(uow)
        p = period_figures(uow, "2026-11")
    assert {ln.account: ln.net for ln in entry.lines} == {
        "Abnormal Scrap Loss": D("50.00"), "Raw and In-Process Inventory": D("-50.00")}
    assert "scrap" not in variances  # nothing to dispose of: it is the period's already
    assert not any(account == "Abnormal Scrap Loss" for account, _ in lines)
    # Its 50.00 is an expense of the period in both statements.
    assert p.absorption.other == p.throughput.other == D("50.00")
    a = p.absorption
    assert a.operating_income == a.sales - a.cost_of_goods_sold - D("50.00")


SHARED = """\
format: 1
name: one account for usage and scrap
policy:
  disposition: {{usage: {d}, scrap: {d}}}
  accounts: {{material_usage_variance: Material Variances, scrap_variance: Material Variances}}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: STOOL, conversion_cost: 1.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}]
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.00, id: PO-1}}
  - {{type: completion, date: 2026-11-03, item: STOOL, qty: 50, id: WO-1}}
  - {{type: conversion_incurred, date: 2026-11-03, amount: 50, id: CV-1}}
  - {{type: scrap, date: 2026-11-04, item: SEAT, qty: 10, id: SC-1}}
  - {{type: sale, date: 2026-11-05, item: STOOL, qty: 20, unit_price: 9, id: SO-1}}
  - {{type: close, period: 2026-11, gaap_bridge: true}}
"""


def test_an_account_two_families_share_is_disposed_of_once() -> None:
    """10 seats scrapped: 50.00 on Material Variances, which usage and scrap share."""
    for disposition in ("write_off", "keep"):
        ledger = memory_ledger()
        assert run_scenario(ledger.unit_of_work(),
                            scenario_from_text(SHARED.format(d=disposition))).ok
        with ledger.unit_of_work(read_only=True) as uow:
            p = period_figures(uow, "2026-11")
        books = dict(p.balances)
        assert p.gaap_balances is not None
        gaap = dict(p.gaap_balances)
        if disposition == "write_off":  # 20 stools × 6.00 + the 50.00, once
            assert "Material Variances" not in books
            assert books["Cost of Goods Sold"] == D("170.00")
        else:  # kept on the books, prorated once by the bridge
            assert books["Material Variances"] == D("50.00")
            assert "Material Variances" not in gaap
