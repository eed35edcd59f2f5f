"""Scenario files: good ones read as the format says; every problem of a bad one is reported
at once, naming the file, line, entry and field."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backflush.adapters.files import load_scenario, scenario_from_data, scenario_from_text
from backflush.adapters.files.limits import MAX_PROBLEMS
from backflush.adapters.files.loaders import load_path
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import Close, Completion, Opening, Receipt
from backflush.domain.policy import Journal, Method, Stage

ROOT = Path(__file__).resolve().parents[3]
STOOL = ROOT / "examples" / "stool.yaml"
DEMOS = [ROOT / "src" / "backflush" / "data" / "demo.yaml",
         Path("/tmp/old/backflush/data/demo.yaml")]  # where it was while the tree moved

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


def problems(text: str, suffix: str = ".yaml") -> list[Problem]:
    with pytest.raises(ValidationError) as err:
        scenario_from_text(text, "plant.yaml", suffix)
    return list(err.value.problems)


def shown(text: str) -> list[str]:
    return [str(p) for p in problems(text)]


# ---------------------------------------------------------------------------------- good


def test_the_stool_example_reads_as_the_format_says() -> None:
    s = load_scenario(STOOL)
    assert s.source == str(STOOL) and s.name.startswith("Stool plant")
    assert (s.policy.currency, s.policy.minor_unit, s.policy.journal) == (
        "USD", 2, Journal.AUTO)
    assert s.policy.triggers == {Stage.PURCHASE, Stage.COMPLETION, Stage.SALE}
    assert s.as_of == date(2026, 11, 1) and s.opening is None
    assert [(x.entry, x.line) for x in s.events] == [
        ("events[0] (PO-1)", 16), ("events[1] (PO-2)", 17), ("events[2] (CV-1)", 18),
        ("events[3] (WO-1)", 19), ("events[4] (SO-1)", 20), ("events[5]", 21)]
    assert s.events[0].event == Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT",
                                        qty=Decimal(10000), unit_price=Decimal("5.10"))
    assert s.events[5].event == Close(id="close-2026-11", date=date(2026, 11, 30),
                                      period="2026-11")
    assert s.master.items["STOOL"].made and not s.master.items["SEAT"].made
    version = s.master.boms.on("STOOL", date(2026, 11, 1))
    assert version is not None and version.key == "STOOL@v1"
    assert version.effective_from == date(1900, 1, 1)


def test_the_demo_reads_without_problems() -> None:
    demo = next((p for p in DEMOS if p.exists()), None)
    if demo is None:
        pytest.skip("no demo.yaml in this tree")
    s = load_scenario(demo)
    assert len(s.events) == 803 and len(s.master.items) == 39
    assert isinstance(s.opening, Opening) and s.opening.date == date(2026, 10, 31)
    assert s.master.items["BASE-KIT"].phantom and s.master.work_centers["SEW"].labor_rate


def test_the_same_scenario_as_json_gives_the_same_events() -> None:
    data = load_path(STOOL)
    text = json.dumps(data, default=str)
    from_json = scenario_from_text(text, "stool.json", ".json")
    from_yaml = load_scenario(STOOL)
    assert [x.event for x in from_json.events] == [x.event for x in from_yaml.events]
    assert from_json.master == from_yaml.master and from_json.policy == from_yaml.policy
    assert scenario_from_data(data, method=Method.SEQUENTIAL).policy.method is Method.SEQUENTIAL


def test_codes_and_ids_are_never_rewritten_by_yaml() -> None:
    s = scenario_from_text(GOOD.replace("SEAT", "010").replace("id: PO-1", "id: 1:20"))
    assert "010" in s.master.items and s.events[0].event.id == "1:20"
    assert s.events[0].entry == "events[0] (1:20)"


def test_defaults_ids_dates_and_currencies() -> None:
    s = scenario_from_text(GOOD.replace(", id: PO-1", "").replace("format: 1",
                                                                  "format: 1\ncurrency: jpy"))
    assert s.events[0].event.id == "#1" and s.events[0].entry == "events[0]"
    assert (s.policy.currency, s.policy.minor_unit) == ("JPY", 0)
    s = scenario_from_text(GOOD.replace("format: 1", "format: 1\ncurrency: XYZ\nminor_unit: 3"))
    assert (s.policy.currency, s.policy.minor_unit) == ("XYZ", 3)
    s = scenario_from_text(GOOD.split("events:")[0])
    assert s.as_of == date(1900, 1, 1) and s.events == ()
    s = scenario_from_text(GOOD + "opening:\n  stock: [{item: SEAT, qty: 5}]\n"
                                  "  balances: {Finished Goods Inventory: 10, Equity: -10}\n")
    assert s.opening is not None and s.opening.date == date(2026, 10, 31)
    assert s.opening.balances == {"Finished Goods Inventory": Decimal(10),
                                  "Equity": Decimal(-10)}


def test_versioned_boms_and_made_items() -> None:
    text = GOOD.replace("  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]",
                        "  STOOL:\n    versions:\n"
                        "      - {version: 1, effective: 2026-01-01,\n"
                        "         lines: [{item: SEAT, qty: 1}]}\n"
                        "      - {version: 2, effective: 2026-11-15,\n"
                        "         lines: [{item: LEG, qty: 3}]}")
    s = scenario_from_text(text.replace("{code: LEG, standard_cost: 1.00}",
                                        "{code: LEG, standard_cost: 1.00, type: purchased}"))
    late = s.master.boms.on("STOOL", date(2026, 12, 1))
    assert late is not None and late.key == "STOOL@v2" and late.lines[0].component == "LEG"
    assert s.master.boms.on("STOOL", date(2025, 1, 1)).key == "STOOL@v1"  # type: ignore[union-attr]


def test_an_id_repeated_with_the_same_content_is_kept_for_posting_to_report() -> None:
    again = "  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10.0, unit_price: 5.1, " \
            "id: PO-1}\n"
    s = scenario_from_text(GOOD + again)
    assert [x.event.id for x in s.events] == ["PO-1", "WO-1", "PO-1"]


# ---------------------------------------------------------------------------------- bad


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("{item: LEG, qty: 3}", "{item: LEGG, qty: 3}",
     "plant.yaml:7, bom STOOL@v1 line 2, field 'item': unknown item 'LEGG'"),
    ("item: SEAT, qty: 10,", "item: SEET, qty: 10,",
     "plant.yaml:10, events[0] (PO-1), field 'item': unknown item 'SEET'"),
    ("qty: 1, id: WO-1}", "qty: 1, hours: {WLD: 2}, id: WO-1}",
     "plant.yaml:11, events[1] (WO-1), field 'hours.WLD': unknown work center 'WLD'"),
    ("item: SEAT, qty: 10,", "item: SEAT, qty: -10,",
     "plant.yaml:10, events[0] (PO-1), field 'qty': must be positive, got -10"),
    ("{item: SEAT, qty: 1}", "{item: SEAT, qty: 0}",
     "plant.yaml:7, bom STOOL@v1 line 1, field 'qty': must be positive"),
    ("unit_price: 5.10", "unit_price: five",
     "plant.yaml:10, events[0] (PO-1), field 'unit_price': 'five' is not a decimal number"),
    ("{code: SEAT, standard_cost: 5.00}", "{code: SEAT}",
     "plant.yaml:3, item SEAT, field 'standard_cost': purchased item has no standard cost"),
    ("{type: receipt,", "{type: recept,",
     "plant.yaml:10, events[0] (PO-1), field 'type': unknown event type 'recept'; expected "
     "one of receipt, conversion_incurred, completion, scrap, sale, transfer, count, release, "
     "signal, reversal, cost_change, rate_change, close, reopen, issue"),
    ("id: WO-1}", "id: WO-1, colour: red}",
     "plant.yaml:11, events[1] (WO-1), field 'colour': unknown field; expected one of date, "
     "hours, id, item, location, order, output_location, qty, scrap_qty, type"),
    ("format: 1", "format: 2", "plant.yaml:1, document, field 'format': expected format: 1, "
     "got '2'"),
    ("{code: LEG, standard_cost: 1.00}", "{code: LEG, standard_cost: 1.00, phantom: yes-ish}",
     "plant.yaml:4, item LEG, field 'phantom': expected true or false, got 'yes-ish'"),
    ("date: 2026-11-02,", "date: 2026-13-02,",
     "plant.yaml:10, events[0] (PO-1), field 'date': '2026-13-02' is not a date (YYYY-MM-DD)"),
    ("[{code: WELD, rate: 90}]", "[{code: WELD}]", "plant.yaml:8, work center WELD, field "
     "'rate': give rate, or labor_rate and overhead_rate, or a budget"),
    ("format: 1", "format: 1\ncurrency: XYZ", "plant.yaml:2, document, field 'currency': "
     "unknown currency 'XYZ'; give minor_unit (digits after the decimal point)"),
    ("format: 1", "format: 1\nminor_unit: 7", "plant.yaml:2, document, field 'minor_unit': "
     "must be from 0 to 4"),
    ("format: 1", "format: 1\npolicy: {disposition: keep}", "plant.yaml:2, policy, field "
     "'disposition': conversion variances are written off or prorated at close; 'keep' is for "
     "material variances only"),
    ("format: 1", "format: 1\npolicy: {disposition: {usage: keep-it}}", "plant.yaml:2, policy, "
     "field 'disposition.usage': 'keep-it' is not one of write_off, prorate, keep"),
    ("format: 1", "format: 1\ncolour: red", "plant.yaml:2, document, field 'colour': unknown "
     "field; expected one of boms, currency, description, events, format, items, kanban, "
     "minor_unit, name, opening, policy, routings, work_centers"),
    ("work_centers: [{code: WELD, rate: 90}]", "work_centers: {WELD: 90}", "plant.yaml:8, "
     "document, field 'work_centers': expected a list of work centers, got a mapping"),
])
def test_bad_input_gets_one_clear_problem(old: str, new: str, expected: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    assert shown(text) == [expected]


def test_a_made_item_without_bom_or_conversion() -> None:
    found = shown(GOOD.replace("  - {code: STOOL, conversion_cost: 6.00}",
                               "  - {code: STOOL, conversion_cost: 6.00}\n"
                               "  - {code: BENCH, type: made}"))
    assert found == ["plant.yaml:6, item BENCH, field 'bom': made item has neither a BOM nor "
                     "a conversion cost (routing or conversion_cost)"]


def test_a_bom_cycle_names_the_path() -> None:
    text = GOOD.replace("  - {code: STOOL, conversion_cost: 6.00}",
                        "  - {code: STOOL, conversion_cost: 6.00}\n"
                        "  - {code: FRAME, conversion_cost: 1.00}") \
        .replace("boms:\n", "boms:\n  FRAME: [{item: STOOL, qty: 1}]\n") \
        .replace("{item: LEG, qty: 3}]", "{item: LEG, qty: 3}, {item: FRAME, qty: 1}]")
    assert shown(text) == ["plant.yaml:8, bom FRAME, field 'components': BOM cycle: "
                           "FRAME -> STOOL -> FRAME"]


def test_problems_of_a_block_mapping_name_the_field_s_own_line() -> None:
    text = GOOD + "  - type: receipt\n    id: PO-3\n    date: 2026-11-04\n    item: LEG\n" \
                  "    qty: many\n    unit_price: 1\n"
    assert shown(text) == ["plant.yaml:16, events[2] (PO-3), field 'qty': 'many' is not a "
                           "decimal number"]


def test_events_checked_against_the_rest_of_the_file() -> None:
    closed = GOOD + ("  - {type: close, period: 2026-11, id: CL}\n"
                     "  - {type: receipt, date: 2026-11-30, item: LEG, qty: 3, unit_price: 1, "
                     "id: PO-2}\n")
    assert shown(closed) == ["plant.yaml:13, events[3] (PO-2), field 'date': 2026-11-30 is in "
                             "a period closed by events[2] (CL); post corrections in the open "
                             "period"]
    reversal = GOOD + "  - {type: reversal, date: 2026-11-04, of: PO-7, id: R1}\n"
    assert shown(reversal) == ["plant.yaml:12, events[2] (R1), field 'of': no earlier event "
                               "has id 'PO-7'"]
    changed = GOOD + "  - {type: receipt, date: 2026-11-04, item: LEG, qty: 3, " \
                     "unit_price: 1, id: PO-1}\n"
    assert shown(changed) == ["plant.yaml:12, events[2] (PO-1), field 'id': id 'PO-1' was "
                              "used by events[0] (PO-1) with different content"]
    phantom = GOOD.replace("{code: LEG, standard_cost: 1.00}",
                           "{code: LEG, standard_cost: 1.00}\n  - {code: KIT, phantom: true}") \
        .replace("boms:\n", "boms:\n  KIT: [{item: LEG, qty: 1}]\n") \
        + "  - {type: count, date: 2026-11-04, item: KIT, qty: 1}\n" \
        + "  - {type: receipt, date: 2026-11-04, item: STOOL, qty: 1, unit_price: 1}\n" \
        + "  - {type: completion, date: 2026-11-04, item: LEG, qty: 1}\n"
    assert shown(phantom) == [
        "plant.yaml:14, events[2], field 'item': 'KIT' is a phantom: it is never stocked",
        "plant.yaml:15, events[3], field 'item': 'STOOL' is a made item; report a completion",
        "plant.yaml:16, events[4], field 'item': 'LEG' is a purchased item, not a made one"]


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("qty: 10,", "qty: -1,").replace("item: STOOL, qty: 1,",
                                                          "item: STOOLL, qty: 1,")
    text = text.replace("{code: SEAT, standard_cost: 5.00}", "{code: SEAT, standard_cost: x}")
    assert shown(text) == [
        "plant.yaml:3, item SEAT, field 'standard_cost': 'x' is not a decimal number",
        "plant.yaml:10, events[0] (PO-1), field 'qty': must be positive, got -1",
        "plant.yaml:11, events[1] (WO-1), field 'item': unknown item 'STOOLL'"]


def test_beyond_the_listed_maximum_problems_are_counted() -> None:
    bad = "".join(f"  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: -{i + 1}, "
                  f"unit_price: 1, id: B{i}}}\n" for i in range(MAX_PROBLEMS + 50))
    with pytest.raises(ValidationError) as err:
        scenario_from_text(GOOD + bad, "plant.yaml")
    assert len(err.value.problems) == MAX_PROBLEMS and err.value.more == 50
    assert str(err.value).startswith(f"{MAX_PROBLEMS + 50} problems found:")
    assert str(err.value).endswith("... and 50 more")


@pytest.mark.parametrize(("text", "expected"), [
    ("", "plant.yaml, document: expected a mapping (format: 1, items, ...), got nothing"),
    ("- a\n- b\n", "plant.yaml:1, document: expected a mapping (format: 1, items, ...), got a "
     "list"),
    ("format: 1\n", "plant.yaml:1, document, field 'items': expected a non-empty list of "
     "items"),
    ("format: 1\nitems: [{code: A, standard_cost: 1}]\nevents: [5]\n",
     "plant.yaml:3, events[0]: expected a mapping, got text"),
    ("format: 1\nitems: [{code: A, standard_cost: 1}]\nboms: {A: 5}\n",
     "plant.yaml:3, bom A: expected a mapping, got text"),
    ("format: 1\nitems: [{code: A, standard_cost: 1}]\nopening: {stock: [{item: B, qty: 1}]}\n",
     "plant.yaml:3, opening.stock[0], field 'item': unknown item 'B'"),
])
def test_structural_problems(text: str, expected: str) -> None:
    assert shown(text) == [expected]


def test_json_scenarios_report_alike() -> None:
    doc: dict[str, Any] = json.loads(json.dumps(load_path(STOOL), default=str))
    doc["events"][0]["qty"] = "-5"
    found = problems(json.dumps(doc), ".json")
    assert [(p.entry, p.field, p.message, p.line) for p in found] == [
        ("events[0] (PO-1)", "qty", "must be positive, got -5", None)]
    found = problems('{"format": 1, "format": 1}', ".json")
    assert [(p.line, p.message) for p in found] == [(1, "duplicate key 'format'")]


def test_scenario_events_are_located_events() -> None:
    s = scenario_from_text(GOOD)
    completion = s.events[1]
    assert completion.source == "<scenario>" and completion.line == 11
    assert isinstance(completion.event, Completion) and completion.entry == "events[1] (WO-1)"
