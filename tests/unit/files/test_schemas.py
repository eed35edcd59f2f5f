"""The strict models: each field type accepts exactly what is unambiguous, and every issue
names its field in words a person can act on (never repeating a huge value)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backflush.adapters.files import schemas as s
from backflush.adapters.files.document import ScenarioDocument
from backflush.adapters.files.loaders import load_path
from backflush.domain.events import Completion, Receipt, Transfer

ROOT = Path(__file__).resolve().parents[3]


def issues(schema: Any, data: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(s.Invalid) as err:
        s.validate(schema, data)
    return [(i.field, i.message) for i in err.value.issues]


def domain_issues(schema: Any, data: Any, *args: Any) -> list[tuple[str | None, str]]:
    row = s.validate(schema, data)
    with pytest.raises(s.Invalid) as err:
        row.to_domain(*args)
    return [(i.field, i.message) for i in err.value.issues]


RECEIPT = {"type": "receipt", "id": "PO-1", "date": "2026-11-02", "item": "SEAT", "qty": "10",
           "unit_price": "5.10"}


@pytest.mark.parametrize(("value", "qty"), [
    ("10", Decimal(10)), (10, Decimal(10)), (Decimal("10.50"), Decimal("10.50")),
    ("5.10", Decimal("5.10")), (" 7 ", Decimal(7)), ("1e3", Decimal("1E+3")),
])
def test_decimals_come_from_text_ints_and_decimals(value: object, qty: Decimal) -> None:
    row = s.validate(s.EVENTS, {**RECEIPT, "qty": value})
    assert row.qty == qty and str(row.qty) == str(qty)


@pytest.mark.parametrize(("value", "message"), [
    (5.1, "5.1 is a binary floating-point number, which cannot hold every decimal exactly; "
          "write the number as text ('5.1')"),
    (True, "expected a decimal number, got true/false"),
    ([1], "expected a decimal number, got a list"),
    ("abc", "'abc' is not a decimal number"),
    ("1.1234567", "1.1234567 has more than 6 decimal places (at most 6 allowed for a "
                  "quantity)"),
    ("1234567890123", "1234567890123 has more than 12 digits before the decimal point (the "
                      "limit for a quantity)"),
    ("NaN", "'NaN' is not a finite number"),
    (10**50, "the number is far too large"),
    (Decimal("1." + "1" * 100), "the number has too many digits"),
    ("9" * 100_000, "'" + "9" * 40 + "'... is too long for a number"),
])
def test_decimals_refused_say_why(value: object, message: str) -> None:
    assert issues(s.EVENTS, {**RECEIPT, "qty": value}) == [("qty", message)]


@pytest.mark.parametrize(("value", "message"), [
    ("", "'' is empty"),
    ("  ", "'  ' is only blanks"),
    (" SEAT", "' SEAT' has blanks at its start or end"),
    ("SE\x1bAT", "'SE\\\\u001bAT' holds the control character U+001B at position 3"),
    ("A" * 101, "'" + "A" * 57 + "...' is 101 characters long; at most 100 are allowed"),
    ("\ud800", "holds the unpaired surrogate U+D800 at position 1, which is no character"),
    (True, "expected text, got true/false"),
    (Decimal("1.5"), "expected text, got a number"),
    ({"a": 1}, "expected text, got a mapping"),
])
def test_codes_follow_the_domain_rules(value: object, message: str) -> None:
    assert issues(s.EVENTS, {**RECEIPT, "item": value}) == [("item", message)]


def test_a_code_may_be_an_int_and_becomes_its_text() -> None:
    assert s.validate(s.EVENTS, {**RECEIPT, "item": 10, "id": 7}).item == "10"
    assert s.validate(s.EVENTS, {**RECEIPT, "id": 7}).id == "7"


def test_a_huge_or_hostile_value_is_never_repeated_whole() -> None:
    for field in ("item", "id", "qty", "date", "supplier", "type"):
        found = issues(s.EVENTS, {**RECEIPT, field: "\x1b[2J" + "x" * 1_000_000})
        assert found and all(len(m) < 300 and "\x1b" not in m for _, m in found), found


@pytest.mark.parametrize(("value", "ok"), [
    ("2026-11-02", True), (date(2026, 11, 2), True), ("20261102", False),
    ("2026-W45-1", False), ("2026-11-2", False), (" 2026-11-02", False), ("2026-13-02", False),
    ("２０２６-11-02", False), (datetime(2026, 11, 2), False), (20261102, False),
])
def test_dates_are_dates_or_yyyy_mm_dd(value: object, ok: bool) -> None:
    if ok:
        assert s.validate(s.EVENTS, {**RECEIPT, "date": value}).date == date(2026, 11, 2)
    else:
        ((field, message),) = issues(s.EVENTS, {**RECEIPT, "date": value})
        assert field == "date" and ("is not a date (YYYY-MM-DD)" in message
                                    or message.startswith("expected a date"))


def test_booleans_are_booleans_only() -> None:
    assert s.validate(s.ItemRow, {"code": "KIT", "phantom": True}).phantom is True
    for value in ("yes", "true", 1, "on"):
        ((field, message),) = issues(s.ItemRow, {"code": "KIT", "phantom": value})
        assert field == "phantom" and message.startswith("expected true or false, got")


def test_null_means_not_given() -> None:
    row = s.validate(s.ItemRow, {"code": "KIT", "uom": None, "phantom": None})
    assert (row.uom, row.phantom) == ("ea", False)
    assert issues(s.EVENTS, {**RECEIPT, "qty": None}) == [("qty", "is required")]


def test_the_event_type_picks_the_model() -> None:
    assert issues(s.EVENTS, {"type": "recept", "date": "2026-11-02"}) == [
        ("type", "unknown event type 'recept'; expected one of receipt, conversion_incurred, "
                 "completion, scrap, sale, transfer, count, release, signal, reversal, "
                 "cost_change, rate_change, close, reopen, issue")]
    assert issues(s.EVENTS, {"date": "2026-11-02"}) == [("type", "is required")]
    assert issues(s.EVENTS, ["receipt"]) == [(None, "expected a mapping, got a list")]
    assert issues(s.EVENTS, {"type": "receipt", "id": "PO-1", "colour": "red"}) == [
        ("date", "is required"), ("item", "is required"), ("qty", "is required"),
        ("unit_price", "is required"),
        ("colour", "unknown field; expected one of date, due, id, item, location, qty, "
                   "supplier, type, unit_price")]


def test_to_domain_runs_the_domain_checks_and_names_the_field() -> None:
    assert domain_issues(s.EVENTS, {**RECEIPT, "qty": "-1"}, "#1") == [
        ("qty", "must be positive, got -1")]
    assert domain_issues(s.EVENTS, {"type": "transfer", "date": "2026-11-02", "item": "SEAT",
                                    "qty": "1", "from": "a", "to": "a"}, "#1") == [
        ("to", "a transfer needs two different locations")]
    assert domain_issues(s.EVENTS, {"type": "completion", "date": "2026-11-02", "item": "X",
                                    "qty": "1", "hours": {"WELD": "-2"}}, "#1") == [
        ("hours.WELD", "must not be negative")]
    assert domain_issues(s.EVENTS, {"type": "close", "period": "2026-13"}, "#1") == [
        ("period", "must look like 2026-11, got '2026-13'")]
    assert domain_issues(s.EVENTS, {**RECEIPT, "date": "1899-12-31"}, "#1") == [
        ("date", "1899-12-31 is outside the years 1900-2199")]
    assert domain_issues(s.BomRow, s.bom_spec([{"item": "B", "qty": "0"}]), "A") == [
        ("versions[0].lines[0].qty", "must be positive")]
    assert domain_issues(s.OperationRow, {"work_center": "W", "run_hours": "-1"}, 10) == [
        ("run_hours", "must not be negative")]
    assert domain_issues(s.PolicyRow, {"disposition": "keep"}) == [
        ("disposition", "conversion variances are written off or prorated at close; 'keep' "
                        "is for material variances only")]


def test_events_become_the_domain_events() -> None:
    receipt = s.validate(s.EVENTS, RECEIPT).to_domain("#1")
    assert receipt == Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT", qty=Decimal(10),
                              unit_price=Decimal("5.10"))
    completion = s.validate(s.EVENTS, {"type": "completion", "date": "2026-11-02",
                                       "item": "STOOL", "qty": "0", "scrap_qty": "2",
                                       "hours": {"WELD": "1.5"}}).to_domain("#4")
    assert completion == Completion(id="#4", date=date(2026, 11, 2), item="STOOL",
                                    qty=Decimal(0), scrap_qty=Decimal(2),
                                    hours=(("WELD", Decimal("1.5")),))
    transfer = s.validate(s.EVENTS, {"type": "transfer", "id": "T", "date": "2026-11-02",
                                     "item": "SEAT", "qty": 1, "from": "stores",
                                     "to": "line-1"}).to_domain("#1")
    assert transfer == Transfer(id="T", date=date(2026, 11, 2), item="SEAT", qty=Decimal(1),
                                from_location="stores", to_location="line-1")
    close = s.validate(s.EVENTS, {"type": "close", "period": "2026-02"}).to_domain("#9")
    assert (close.id, close.date) == ("close-2026-02", date(2026, 2, 28))


def test_policy_mappings_name_the_key() -> None:
    assert issues(s.PolicyRow, {"disposition": {"usage": "keepx", "colour": "keep"},
                                "accounts": {"sales": ""}, "trigger_points": "sale"}) == [
        ("trigger_points", "expected a list, got text"),
        ("disposition.usage", "'keepx' is not one of write_off, prorate, keep"),
        ("disposition.colour", "unknown variance family 'colour'; expected one of conversion, "
                               "purchase_price, usage, scrap, revaluation"),
        ("accounts.sales", "'' is empty")]


def test_work_center_rates_from_a_budget() -> None:
    wc = s.validate(s.WorkCenterRow, {"code": "W", "budget": {
        "labor": "90000", "overhead": 180000, "hours": "3000"}}).to_domain()
    assert (wc.labor_rate, wc.overhead_rate) == (Decimal(30), Decimal(60))
    assert domain_issues(s.WorkCenterRow, {"code": "W"}) == [
        ("rate", "give rate, or labor_rate and overhead_rate, or a budget")]


def test_the_whole_document_model_takes_a_scenario_as_an_api_would() -> None:
    data = load_path(ROOT / "examples" / "stool.yaml")
    doc = s.validate(ScenarioDocument, data)
    assert [e.type for e in doc.events] == ["receipt", "receipt", "conversion_incurred",
                                            "completion", "sale", "close"]
    assert doc.boms["STOOL"].versions[0].lines[1].qty == Decimal(3)
    bad = {**data, "events": [{"type": "receipt", "zz": 1}], "format": 2}
    found = issues(ScenarioDocument, bad)
    assert ("format", "expected format: 1, got 2") in found
    assert ("events[0].zz", "unknown field; expected one of date, due, id, item, location, "
                            "qty, supplier, type, unit_price") in found


def test_dotted_fields() -> None:
    from backflush.adapters.files.limits import dotted
    assert dotted(("hours", "WELD")) == "hours.WELD"
    assert dotted(("trigger_points", 2)) == "trigger_points[2]"
    assert dotted(("versions", 0, "lines", 1, "qty")) == "versions[0].lines[1].qty"
