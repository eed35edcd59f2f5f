"""A reversal's ``qty`` (a partial reversal) as the scenario files and the API read it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.adapters.files.schemas import EVENTS, validate
from backflush.domain.errors import ValidationError
from backflush.domain.events import Reversal

PLANT = """\
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10, unit_price: 5.10, id: PO-1}
  - {type: completion, date: 2026-11-03, item: STOOL, qty: 38, id: WO-7-C1}
"""


def read(line: str) -> Reversal:
    events = scenario_from_text(PLANT + f"  - {line}\n", "plant.yaml").events
    event = events[-1].event
    assert isinstance(event, Reversal)
    return event


def problems(line: str) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        scenario_from_text(PLANT + f"  - {line}\n", "plant.yaml")
    return [str(p) for p in exc.value.problems]


def test_a_reversal_reads_its_qty_and_without_one_reverses_what_is_left() -> None:
    part = read("{type: reversal, date: 2026-11-04, of: WO-7-C1, qty: 5, reason: miscounted, "
                "id: R1}")
    assert (part.of, part.qty, part.reason) == ("WO-7-C1", Decimal(5), "miscounted")
    assert read("{type: reversal, date: 2026-11-04, of: WO-7-C1, qty: '2.5', id: R1}").qty \
        == Decimal("2.5")
    assert read("{type: reversal, date: 2026-11-04, of: WO-7-C1, id: R1}").qty is None


@pytest.mark.parametrize(("qty", "message"), [
    ("0", "must be positive, got 0"),
    ("-5", "must be positive, got -5"),
    ("five", "'five' is not a decimal number"),
    ("1.1234567", "decimal places"),
])
def test_a_bad_qty_is_named_and_nothing_is_read(qty: str, message: str) -> None:
    found = problems(f"{{type: reversal, date: 2026-11-04, of: WO-7-C1, qty: {qty}, id: R1}}")
    assert len(found) == 1
    assert found[0].startswith("plant.yaml:11, events[2] (R1), field 'qty': "), found
    assert message in found[0], found


def test_the_api_model_takes_qty_too() -> None:
    row = validate(EVENTS, {"type": "reversal", "id": "R1", "date": "2026-11-04",
                            "of": "WO-7-C1", "qty": "5"})
    event = row.to_domain("R1")
    assert isinstance(event, Reversal) and event.qty == Decimal(5)
    assert Reversal(id="R1", date=event.date, of="WO-7-C1").content() == {
        "type": "reversal", "date": "2026-11-04", "of": "WO-7-C1", "reason": ""}  # as before
