"""Every kind of bad input: a clear error naming the entry and field, and nothing posted."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal as D

import pytest

from backflush.adapters.scenario_file import scenario_from_text
from backflush.domain.errors import (
    DuplicateEventError,
    PeriodLockedError,
    Problem,
    ValidationError,
)
from backflush.domain.events import Close, Receipt
from backflush.service_layer import services
from tests.conftest import Run, new_backend

pytestmark = pytest.mark.usefixtures("backend")

GOOD = """\
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
work_centers: [{code: WELD, rate: 90}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10, unit_price: 5.10, id: PO-1}
  - {type: completion, date: 2026-11-03, item: STOOL, qty: 1, id: WO-1}
"""


def problems(text: str) -> list[Problem]:
    with pytest.raises(ValidationError) as err:
        scenario_from_text(textwrap.dedent(text), "plant.yaml")
    return list(err.value.problems)


def one(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def test_the_good_scenario_is_good() -> None:
    r = Run(GOOD)
    assert r.outcome.ok and r.verify() == []


def test_bom_cycle_names_the_path_and_nothing_is_posted() -> None:
    text = GOOD.replace("  - {code: STOOL, conversion_cost: 6.00}",
                        "  - {code: STOOL, conversion_cost: 6.00}\n"
                        "  - {code: FRAME, conversion_cost: 1.00}") \
        .replace("boms:\n", "boms:\n  FRAME: [{item: STOOL, qty: 1}]\n") \
        .replace("{item: LEG, qty: 3}]", "{item: LEG, qty: 3}, {item: FRAME, qty: 1}]")
    p = one(text)
    assert (p.entry, p.field) == ("bom FRAME", "components")
    assert "BOM cycle: FRAME -> STOOL -> FRAME" in p.message and p.source == "plant.yaml"


@pytest.mark.parametrize(("old", "new", "entry", "field", "message"), [
    ("{item: LEG, qty: 3}", "{item: LEGG, qty: 3}", "bom STOOL@v1 line 2", "item",
     "unknown item 'LEGG'"),
    ("item: SEAT, qty: 10,", "item: SEET, qty: 10,", "events[0] (PO-1)", "item",
     "unknown item 'SEET'"),
    ("qty: 1, id: WO-1}", "qty: 1, hours: {WLD: 2}, id: WO-1}", "events[1] (WO-1)", "hours.WLD",
     "unknown work center 'WLD'"),
    ("item: SEAT, qty: 10,", "item: SEAT, qty: -10,", "events[0] (PO-1)", "qty",
     "must be positive, got -10"),
    ("item: SEAT, qty: 10,", "item: SEAT, qty: 0,", "events[0] (PO-1)", "qty",
     "must be positive, got 0"),
    ("{item: SEAT, qty: 1}", "{item: SEAT, qty: 0}", "bom STOOL@v1 line 1", "qty",
     "must be positive"),
    ("unit_price: 5.10", "unit_price: five", "events[0] (PO-1)", "unit_price",
     "'five' is not a decimal number"),
    ("{code: SEAT, standard_cost: 5.00}", "{code: SEAT}", "item SEAT", "standard_cost",
     "purchased item has no standard cost"),
    ("{code: STOOL, conversion_cost: 6.00}", "{code: BENCH, type: made}", "item BENCH", "bom",
     "made item has neither a BOM nor a conversion cost"),
    ("{type: receipt,", "{type: recept,", "events[0] (PO-1)", "type",
     "unknown event type 'recept'"),
    ("id: PO-1}", "id: PO-1, colour: red}", "events[0] (PO-1)", "colour", "unknown field"),
    ("format: 1", "format: 2", "document", "format", "expected format: 1"),
    ("{code: LEG, standard_cost: 1.00}", "{code: LEG, standard_cost: 1.00, phantom: yes-ish}",
     "item LEG", "phantom", "expected true or false"),
    ("date: 2026-11-02,", "date: 2026-13-02,", "events[0] (PO-1)", "date", "is not a date"),
    ("work_centers: [{code: WELD, rate: 90}]", "work_centers: [{code: WELD}]",
     "work center WELD", "rate", "give rate"),
])
def test_bad_input_gets_a_clear_error(old: str, new: str, entry: str, field: str,
                                      message: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    found = problems(text)
    assert any(p.entry == entry and p.field == field and message in p.message
               for p in found), found
    assert all(p.source == "plant.yaml" for p in found)


def test_problems_in_mappings_name_their_line() -> None:
    p = one(GOOD.replace("id: WO-1}", "id: WO-1, colour: red}"))
    assert p.line == 11
    assert str(p) == ("plant.yaml:11, events[1] (WO-1), field 'colour': unknown field; "
                      "expected one of date, hours, id, item, location, order, output_location,"
                      " qty, scrap_qty, type")


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("qty: 10,", "qty: -1,").replace("item: STOOL, qty: 1,",
                                                          "item: STOOLL, qty: 1,")
    assert len(problems(text)) == 2


def test_a_refused_scenario_posts_nothing() -> None:
    r = Run(GOOD.replace("format: 1", "format: 1\npolicy: {negative_stock: reject}")
            .replace("qty: 1, id: WO-1", "qty: 11, id: WO-1"))
    assert not r.outcome.ok
    assert list(r.ledger.entries()) == [] and r.ledger.stock() == {}
    assert r.doc["journal"] == [] and r.doc["errors"][0]["entry"] == "events[1] (WO-1)"


def test_malformed_yaml_names_the_line() -> None:
    p = one(GOOD.replace("  - {type: completion", "  - {type: completion,, ]"))
    assert p.line == 11 and p.entry == "document" and "malformed YAML" in p.message


def test_yaml_floats_are_read_as_exact_decimals() -> None:
    s = scenario_from_text(GOOD.replace("5.10", "5.1000000000000000000000000001"))
    receipt = s.events[0]
    assert isinstance(receipt, Receipt)
    assert receipt.unit_price == D("5.1000000000000000000000000001")


def test_event_in_a_period_closed_earlier_in_the_file() -> None:
    text = GOOD + ("  - {type: close, period: 2026-11, id: CL}\n"
                   "  - {type: receipt, date: 2026-11-30, item: LEG, qty: 3, unit_price: 1, "
                   "id: PO-2}\n")
    p = one(text)
    assert (p.entry, p.field) == ("events[3] (PO-2)", "date")
    assert "closed by events[2]" in p.message


def test_event_in_a_locked_period_is_refused_by_the_service_and_nothing_posts() -> None:
    s = scenario_from_text(GOOD)
    b = new_backend()
    services.set_up_ledger(b.uow(), s.master, s.policy, s.as_of)
    services.post_events(b.uow(), [*s.events, Close(id="CL", date=date(2026, 11, 30),
                                                     period="2026-11")])

    def state() -> tuple[object, ...]:
        ledger = b.ledger()
        return len(list(ledger.entries())), ledger.stock(), ledger.balances()

    before = state()
    late = Receipt(id="PO-9", date=date(2026, 11, 15), item="LEG", qty=D(1), unit_price=D(1))
    december = Receipt(id="PO-10", date=date(2026, 12, 1), item="LEG", qty=D(1),
                       unit_price=D(1))
    with pytest.raises(PeriodLockedError) as err:
        services.post_events(b.uow(), [december, late])
    assert err.value.event_id == "PO-9" and err.value.field == "date"
    assert "closed period" in str(err.value)
    # all or nothing: December's receipt in the same batch was not kept either
    assert state() == before


def test_duplicate_ids_same_content_is_a_no_op_and_different_content_is_refused() -> None:
    s = scenario_from_text(GOOD)
    b = new_backend()
    services.set_up_ledger(b.uow(), s.master, s.policy, s.as_of)
    services.post_events(b.uow(), s.events)
    before = b.ledger().balances()
    result = services.post_events(b.uow(), s.events)
    assert result.duplicate_ids == ["PO-1", "WO-1"] and result.posted == 0
    changed = Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT", qty=D(11),
                      unit_price=D("5.10"))
    with pytest.raises(DuplicateEventError, match="different content"):
        services.post_events(b.uow(), [changed])
    assert b.ledger().balances() == before


def test_duplicate_id_with_different_content_in_one_file() -> None:
    p = one(GOOD + "  - {type: receipt, date: 2026-11-04, item: LEG, qty: 3, unit_price: 1, "
            "id: PO-1}\n")
    assert (p.entry, p.field) == ("events[2] (PO-1)", "id")


def test_conversion_cannot_be_kept_open() -> None:
    p = one(GOOD.replace("format: 1", "format: 1\npolicy: {disposition: keep}"))
    assert (p.entry, p.field) == ("policy", "disposition")


def test_reversal_of_an_unknown_event() -> None:
    p = one(GOOD + "  - {type: reversal, date: 2026-11-04, of: PO-7, id: R1}\n")
    assert (p.entry, p.field) == ("events[2] (R1)", "of")
