"""posting-rules §2: the stool illustration, for both variants, with every amount."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.support import Run

pytestmark = pytest.mark.usefixtures("backend")

STOOL = """
format: 1
name: Stool plant
currency: USD
policy:
  trigger_points: {triggers}
  disposition: write_off
items:
  - {{code: SEAT, uom: ea, standard_cost: 5.00}}
  - {{code: LEG, uom: ea, standard_cost: 1.00}}
  - {{code: STOOL, uom: ea, conversion_cost: 6.00}}
boms:
  STOOL:
    - {{item: SEAT, qty: 1}}
    - {{item: LEG, qty: 3}}
events:
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, unit_price: 5.10, id: PO-1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 30000, unit_price: 1.00, id: PO-2}}
  - {{type: conversion_incurred, date: 2026-11-30, amount: 61500, id: CV-1}}
  - {{type: completion, date: 2026-11-20, item: STOOL, qty: 9800, id: WO-1}}
  - {{type: sale, date: 2026-11-25, item: STOOL, qty: 9500, id: SO-1}}
  - {{type: close, period: 2026-11, id: CLOSE}}
"""

RIP, FG, COGS = "Raw and In-Process Inventory", "Finished Goods Inventory", "Cost of Goods Sold"
AP, PPV = "Accounts Payable", "Purchase Price Variance"
CTRL, APPLIED, WAGES = "Conversion Costs Control", "Conversion Costs Applied", \
    "Wages and Other Accounts"


def stool(triggers: str) -> Run:
    r = Run(STOOL.format(triggers=triggers))
    assert r.outcome.ok, r.outcome.errors
    assert r.verify() == []
    return r


@pytest.mark.parametrize("triggers", ["[purchase, completion, sale]", "[purchase, sale]"])
def test_receipts_and_conversion_are_the_same_in_both_variants(triggers: str) -> None:
    r = stool(triggers)
    assert r.entry_lines("PO-1") == {RIP: D("50000.00"), PPV: D("1000.00"), AP: D("-51000.00")}
    assert r.entry_lines("PO-2") == {RIP: D("30000.00"), AP: D("-30000.00")}
    assert r.entry_lines("CV-1") == {CTRL: D("61500.00"), WAGES: D("-61500.00")}


def test_acd_completion_sale_close_and_ending_balances() -> None:
    r = stool("[purchase, completion, sale]")
    assert r.entry_lines("WO-1") == {FG: D("137200.00"), RIP: D("-78400.00"),
                                     APPLIED: D("-58800.00")}
    assert r.entry_lines("SO-1") == {COGS: D("133000.00"), FG: D("-133000.00")}
    # close: under-applied 2,700 and PPV 1,000 to COGS
    assert r.entry_lines("CLOSE") == {CTRL: D("-61500.00"), APPLIED: D("58800.00"),
                                      PPV: D("-1000.00"), COGS: D("3700.00")}
    assert r.balance(RIP) == D("1600.00")
    assert r.balance(FG) == D("4200.00")
    assert r.balance(COGS) == D("136700.00")
    assert r.balance(CTRL) == r.balance(APPLIED) == r.balance(PPV) == 0
    assert r.variances() == {"conversion": "2700.00", "purchase_price": "1000.00"}


def test_ad_completion_moves_stock_only_and_sale_applies_conversion() -> None:
    r = stool("[purchase, sale]")
    assert r.entry_lines("WO-1") == {}
    stock = r.stock()
    assert stock[("STOOL", "stores")] == "300"
    assert r.entry_lines("SO-1") == {COGS: D("133000.00"), RIP: D("-76000.00"),
                                     APPLIED: D("-57000.00")}
    # close: under-applied 4,500 and PPV 1,000 to COGS
    assert r.entry_lines("CLOSE") == {CTRL: D("-61500.00"), APPLIED: D("57000.00"),
                                      PPV: D("-1000.00"), COGS: D("5500.00")}
    assert r.balance(RIP) == D("4000.00")
    assert r.balance(FG) == 0
    assert r.variances() == {"conversion": "4500.00", "purchase_price": "1000.00"}
    # 1,800 of conversion in the 300 unsold stools was expensed: COGS is 1,800 higher.
    cogs_ad = r.balance(COGS)
    acd = stool("[purchase, completion, sale]")
    assert cogs_ad - acd.balance(COGS) == D("1800.00")
