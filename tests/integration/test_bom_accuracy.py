"""BOM accuracy on a real ledger (memory, SQLite; PostgreSQL with the rest of the suite): the
stock subledger's sums by day give the same estimate on every backend, with a reversed
receipt and a reversed completion taken into account, and the wrong shared line found."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from backflush.service_layer.accuracy import bom_accuracy
from tests.accuracy_data import SHARED, WRONG, plant
from tests.support import Run

pytestmark = pytest.mark.usefixtures("backend")

REVERSALS = """\
  - {type: receipt, date: 2026-11-27, item: BOLT, qty: 700, unit_price: 1.00, id: PO-X}
  - {type: reversal, date: 2026-11-27, of: PO-X, id: RV-1}
  - {type: completion, date: 2026-11-27, item: TABLE, qty: 40, id: WO-X}
  - {type: reversal, date: 2026-11-27, of: WO-X, id: RV-2}"""


def test_the_wrong_shared_line_is_found_on_every_backend() -> None:
    run = Run(plant(SHARED, WRONG, intervals=8, extra_events=REVERSALS))
    assert run.outcome.ok, run.outcome.errors
    with run.store.unit_of_work(read_only=True) as uow:
        found = bom_accuracy(uow)
    lines = {a.line.parent: a for a in found.lines}
    assert [a.line.parent for a in found.flagged] == ["STOOL"]
    assert lines["STOOL"].cause == "wrong_bom_line"
    assert abs(lines["STOOL"].estimated - D("3.5")) < D("0.05")  # type: ignore[operator]
    assert found.unexplained == []
    # Nothing at all counted after the reversals: they leave the last interval as it was.
    assert len(found.intervals) == 8


def test_a_reversed_completion_is_neither_consumption_nor_units() -> None:
    text = plant({"STOOL": {"LEG": "3"}}, {"STOOL": {"LEG": "3.25"}}, intervals=3, noise=0)
    # A completion posted and reversed inside the last interval, and a receipt reversed.
    text = text.replace("  - {type: count, date: 2026-11-11", """\
  - {type: completion, date: 2026-11-10, item: STOOL, qty: 40, id: WO-X}
  - {type: reversal, date: 2026-11-10, of: WO-X, id: RV-2}
  - {type: receipt, date: 2026-11-10, item: LEG, qty: 700, unit_price: 1.00, id: PO-X}
  - {type: reversal, date: 2026-11-10, of: PO-X, id: RV-1}
  - {type: count, date: 2026-11-11""")
    run = Run(text)
    assert run.outcome.ok, run.outcome.errors
    with run.store.unit_of_work(read_only=True) as uow:
        (a,) = bom_accuracy(uow).lines
    assert a.estimated == D("3.25") and a.residual_rms == 0
