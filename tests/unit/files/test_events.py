"""Event files for a ledger: every format gives the same events; every bad row is a problem
with file, line, entry and field; the bulk path gives exactly what the row-by-row path gives."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from backflush.adapters.files import events as ev_module
from backflush.adapters.files import limits, loaders, scenario_from_text, stream_events
from backflush.domain.errors import ValidationError
from backflush.domain.events import Close, Completion, Count, Receipt, Sale
from backflush.domain.masterdata import MasterData
from backflush.service_layer.batch import Flows, Located

PLANT = """\
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
  - {code: KIT, phantom: true}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
  KIT: [{item: LEG, qty: 1}]
work_centers: [{code: WELD, rate: 90}, {code: CUT, rate: 40}]
"""
MASTER: MasterData = scenario_from_text(PLANT).master
HEADER = ["id", "date", "type", "item", "qty", "unit_price", "location", "hours", "period"]
ROWS: list[dict[str, Any]] = [
    {"id": "PO-1", "date": "2026-11-02", "type": "receipt", "item": "SEAT", "qty": "100",
     "unit_price": "5.10"},
    {"id": "PO-2", "date": "2026-11-02", "type": "receipt", "item": "LEG", "qty": "300",
     "unit_price": "1.00"},
    {"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": "10"},
    {"id": "W2", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": "2",
     "hours": "WELD=2; CUT=0.5"},
    {"id": "C1", "date": "2026-11-04", "type": "count", "item": "LEG", "qty": "270",
     "location": "stores"},
    {"id": "S1", "date": "2026-11-05", "type": "sale", "item": "STOOL", "qty": "4",
     "unit_price": "25.50"},
    {"type": "close", "period": "2026-11"},
]


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(k, "") for k in header])
    return path


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if k != "hours"}
    if "hours" in row:
        out["hours"] = {k.strip(): v.strip() for k, v in
                        (p.split("=") for p in row["hours"].split(";"))}
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(as_json(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row.get(k) for k in HEADER])
    book.save(path)
    return path


def flat(stream: Any) -> list[tuple[Any, ...]]:
    """Every event as (id, content, repr, source, line, entry): Flows one row at a time."""
    out = []
    for item in stream:
        located = [item.located(i) for i in range(len(item))] if isinstance(item, Flows) \
            else [item]
        for x in located:
            out.append((x.event.id, x.event.content(), repr(x.event), x.source, x.line,
                        x.entry))
    return out


def read(path: Path, bulk: bool = True) -> list[tuple[Any, ...]] | list[str]:
    """The events, or the problems (as text, with the count beyond the listed ones)."""
    try:
        return flat(stream_events(path, MASTER, bulk=bulk))
    except ValidationError as exc:
        return [str(p) for p in exc.problems] + [f"more: {exc.more}"]


def problems(path: Path) -> list[str]:
    with pytest.raises(ValidationError) as err:
        list(stream_events(path, MASTER))
    return [str(p) for p in err.value.problems]


# ---------------------------------------------------------------------------------- good


def test_every_format_gives_the_same_events(tmp_path: Path) -> None:
    paths = [write_csv(tmp_path / "e.csv", ROWS), write_jsonl(tmp_path / "e.jsonl", ROWS),
             write_xlsx(tmp_path / "e.xlsx", ROWS)]
    yaml_path = tmp_path / "e.yaml"
    yaml_path.write_text("events:\n" + "".join(
        f"  - {json.dumps(as_json(r))}\n" for r in ROWS))
    json_path = tmp_path / "e.json"
    json_path.write_text(json.dumps([as_json(r) for r in ROWS]))
    paths += [yaml_path, json_path]
    got = {p.suffix: [(i, c, r, e) for i, c, r, _, _, e in read(p)] for p in paths}  # type: ignore[misc]
    assert got[".csv"] == got[".jsonl"] == got[".xlsx"] == got[".yaml"] == got[".json"]
    events = [x.event for x in (stream_events(paths[1], MASTER)) if isinstance(x, Located)]
    assert events[0] == Completion(id="W2", date=date(2026, 11, 3), item="STOOL",
                                   qty=Decimal(2), hours=(("CUT", Decimal("0.5")),
                                                          ("WELD", Decimal(2))))
    assert isinstance(events[1], Count) and events[-1] == Close(
        id="close-2026-11", date=date(2026, 11, 30), period="2026-11")


def test_plain_flows_come_as_columns_and_the_rest_one_by_one(tmp_path: Path) -> None:
    items = list(stream_events(write_csv(tmp_path / "e.csv", ROWS), MASTER))
    kinds = [(type(x).__name__, len(x) if isinstance(x, Flows) else 1) for x in items]
    assert kinds == [("Flows", 3), ("Located", 1), ("Located", 1), ("Flows", 1),
                     ("Located", 1)]
    flows = items[0]
    assert isinstance(flows, Flows) and list(flows.ids) == ["PO-1", "PO-2", "W1"]
    assert list(flows.lines or []) == [2, 3, 4] and flows.first_entry == 0
    assert flows.event(0) == Receipt(id="PO-1", date=date(2026, 11, 2), item="SEAT",
                                     qty=Decimal(100), unit_price=Decimal("5.10"))
    assert flows.located(2).entry == "events[2] (W1)"
    sale = items[3]
    assert isinstance(sale, Flows) and sale.first_entry == 5
    assert sale.event(0) == Sale(id="S1", date=date(2026, 11, 5), item="STOOL",
                                 qty=Decimal(4), unit_price=Decimal("25.50"))


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS[:3]).replace("}\n", "}\n\n  \n"))
    assert [(e, line) for _, _, _, _, line, e in read(path)] == [  # type: ignore[misc]
        ("events[0] (PO-1)", 1), ("events[1] (PO-2)", 4), ("events[2] (W1)", 7)]
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("id,date,type,item,qty\n\nW1,2026-11-03,completion,STOOL,1\n,,,,\n"
                        "W2,2026-11-03,completion,STOOL,1\n")
    assert [(e, line) for _, _, _, _, line, e in read(csv_path)] == [  # type: ignore[misc]
        ("events[0] (W1)", 3), ("events[1] (W2)", 5)]


# ---------------------------------------------------------------------------------- bad


CSV_HEAD = "id,date,type,item,qty,unit_price,hours\n"


@pytest.mark.parametrize(("rows", "expected"), [
    ("PO-1,2026-11-02,receipt,SEET,1,5,\n",
     "e.csv:2, events[0] (PO-1), field 'item': unknown item 'SEET'"),
    ("PO-1,2026-11-02,receipt,SEAT,abc,5,\n",
     "e.csv:2, events[0] (PO-1), field 'qty': 'abc' is not a decimal number"),
    ("PO-1,2026-11-02,receipt,SEAT,-1,5,\n",
     "e.csv:2, events[0] (PO-1), field 'qty': must be positive, got -1"),
    ("PO-1,2026-11-02,receipt,SEAT,1,,\n",
     "e.csv:2, events[0] (PO-1), field 'unit_price': is required"),
    ("PO-1,2026-11-02,receipt,STOOL,1,5,\n",
     "e.csv:2, events[0] (PO-1), field 'item': 'STOOL' is a made item; report a completion"),
    ("W1,2026-11-02,completion,KIT,1,,\n",
     "e.csv:2, events[0] (W1), field 'item': 'KIT' is a phantom: it is never stocked"),
    ("W1,2026-11-02,completion,STOOL,1,2,\n",
     "e.csv:2, events[0] (W1), field 'unit_price': unknown field; expected one of date, "
     "hours, id, item, location, order, output_location, qty, scrap_qty, type"),
    ("W1,2026-11-02,completion,STOOL,1,,WLD=2\n",
     "e.csv:2, events[0] (W1), field 'hours.WLD': unknown work center 'WLD'"),
    ("W1,2026-11-02,completion,STOOL,1,,WELD\n",
     "e.csv:2, events[0] (W1), field 'hours': expected WORK_CENTER=hours pairs separated by "
     "';' (WELD=2; CUT=0.5), got 'WELD'"),
    (",2026-11-02,completion,STOOL,1,,\n",
     "e.csv:2, events[0], field 'id': every event posted to a ledger needs an id (the "
     "idempotency key)"),
    (" W1,2026-11-02,completion,STOOL,1,,\n",
     "e.csv:2, events[0], field 'id': ' W1' has blanks at its start or end"),
    ("W1,2026-11-02,completion,STOOL,1,,,x\n",
     "e.csv:2, events[0] (W1): the row has 8 cells but the header has 7 columns"),
    ("W1,2026-11-31,completion,STOOL,1,,\n",
     "e.csv:2, events[0] (W1), field 'date': '2026-11-31' is not a date (YYYY-MM-DD)"),
    ("W1,2026-11-02,shipment,STOOL,1,,\n",
     "e.csv:2, events[0] (W1), field 'type': unknown event type 'shipment'; expected one of "
     "receipt, conversion_incurred, completion, scrap, sale, transfer, count, release, "
     "signal, reversal, cost_change, rate_change, close, reopen, issue"),
])
def test_each_bad_row_names_file_line_entry_and_field(tmp_path: Path, rows: str,
                                                      expected: str) -> None:
    path = tmp_path / "e.csv"
    path.write_text(CSV_HEAD + rows)
    assert [p.replace(str(tmp_path) + "/", "") for p in problems(path)] == [expected]


@pytest.mark.parametrize(("line", "expected"), [
    ('{"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": "1", '
     '"qty": "1000000"}', "e.jsonl:1, events[0], field 'qty': duplicate key 'qty'"),
    ('{"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": 1, '
     '"\\u0071ty": 9}', "e.jsonl:1, events[0], field 'qty': duplicate key 'qty'"),
    ('[1, 2]', "e.jsonl:1, events[0]: expected a JSON object, got a list"),
    ('{"id": "W1"', "e.jsonl:1, events[0]: malformed JSON: Expecting ',' delimiter "
     "(column 12)"),
    ('{"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": NaN}',
     "e.jsonl:1, events[0]: NaN is not a number (JSON has no NaN); write a decimal number"),
    ('{"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": 1.5e0}',
     None),
    ('{"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": true}',
     "e.jsonl:1, events[0] (W1), field 'qty': expected a decimal number, got true/false"),
])
def test_bad_json_lines(tmp_path: Path, line: str, expected: str | None) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(line + "\n")
    if expected is None:
        assert len(read(path)) == 1
    else:
        assert [p.replace(str(tmp_path) + "/", "") for p in problems(path)] == [expected]


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"id": "W0", "date": "2026-11-03", "type": "completion", "item": '
                     b'"STOOL", "qty": 1}\n{"id": "W1", "item": "ST\xffOOL"}\n')
    assert problems(path) == [f"{path}:2, events[1]: not UTF-8 text at byte 109"]
    path = tmp_path / "e.csv"
    path.write_bytes(b"id,date,type,item,qty\nW1,2026-11-02,completion,ST\xffOOL,1\n")
    assert problems(path) == [f"{path}:2, file: not UTF-8 text at byte 50; save the file as "
                              "UTF-8"]


def test_the_first_problem_stops_the_events_and_the_rest_is_still_read(
        tmp_path: Path) -> None:
    rows = [{"id": f"W{i}", "date": "2026-11-03", "type": "completion", "item": "STOOL",
             "qty": "1"} for i in range(10)]
    rows[3]["qty"] = "-1"
    rows[8]["item"] = "NOPE"
    seen = []
    with pytest.raises(ValidationError) as err:
        for item in stream_events(write_csv(tmp_path / "e.csv", rows), MASTER):
            seen.append(item)
    assert sum(len(x) if isinstance(x, Flows) else 1 for x in seen) == 3
    assert [(p.line, p.entry, p.field) for p in err.value.problems] == [
        (5, "events[3] (W3)", "qty"), (10, "events[8] (W8)", "item")]


def test_problems_beyond_the_listed_maximum_are_counted(tmp_path: Path) -> None:
    rows = [{"id": f"W{i}", "date": "2026-11-03", "type": "completion", "item": "NOPE",
             "qty": "1"} for i in range(limits.MAX_PROBLEMS + 25)]
    with pytest.raises(ValidationError) as err:
        list(stream_events(write_jsonl(tmp_path / "e.jsonl", rows), MASTER))
    assert len(err.value.problems) == limits.MAX_PROBLEMS and err.value.more == 25


def test_a_ledger_file_needs_ids_but_a_close_may_omit_it(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("- {type: completion, date: 2026-11-03, item: STOOL, qty: 1}\n"
                    "- {type: close, period: 2026-11}\n")
    assert problems(path) == [f"{path}:1, events[0], field 'id': every event posted to a "
                              "ledger needs an id (the idempotency key)"]


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("e.txt", "x", "file: expected one of .csv, .jsonl, .xlsx, .yaml, .yml, .json"),
    ("e.csv", "", "file: the file is empty"),
    ("e.csv", "id;date;type;item;qty\n", "header: the header has one column "
     "'id;date;type;item;qty': the file seems to use ';' as separator; use ','"),
    ("e.csv", "id,date,item,qty\n", "header, field 'type': missing column"),
    ("e.yaml", "{format: 1}\n", "document: expected a list of events, or a scenario with "
     "events"),
])
def test_files_refused_whole(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    ((found,),) = [problems(path)]
    assert found.split(", ", 1)[1].split(": ", 0)[0].endswith(expected) or \
        found.endswith(expected), found


# ---------------------------------------------------------------------------------- bulk = rows


def row_by_row(path: Path) -> list[Any]:
    """What the file gives with the bulk path turned off (every row through the models)."""
    return read(path, bulk=False)


def test_the_bulk_path_is_taken_for_plain_flows(tmp_path: Path) -> None:
    rows = [{"id": f"W{i}", "date": "2026-11-03", "type": "completion", "item": "STOOL",
             "qty": str(1 + i % 7)} for i in range(500)]
    for path in (write_csv(tmp_path / "e.csv", rows, HEADER[:6]),
                 write_jsonl(tmp_path / "e.jsonl", rows)):
        items = list(stream_events(path, MASTER))
        assert len(items) == 1 and isinstance(items[0], Flows) and len(items[0]) == 500
        assert len(items[0].templates) == 7


# Each field mostly valid (odd but valid spellings included), sometimes refused: so that
# rows the bulk checks pass and rows they must not pass meet in the same chunks.
GOOD_QTYS = ["5", "5.10", "1e3", "007", " 5", "5 ", "+5", "5.", ".5", "0.000001", "٥",
             "1_000", "123456789012"]
BAD_QTYS = ["", "0", "-1", "五", "1234567890123", "0.0000001", "NaN", "Infinity", "1E+400",
            "5" * 30, "abc", "0x10", "1,5", "\u00a05", "5\n"]
GOOD_IDS = ["W1", "W2", "W3", "1:20", "Ω", "a" * 200, "W\u00a0X", "\\", "W\\u0071", "W;1",
            "#1", 'W"1', "W,1"]
BAD_IDS = [" W1", "W1 ", "W\x01", "", "a" * 201, "W\u202e", "W\nX", "  ", "\ufeffW"]
GOOD_DATES = ["2026-11-02", "2026-11-03"]
BAD_DATES = ["2026-13-02", "2026-11-31", "20261102", "2026-W45-1", " 2026-11-02",
             "1899-12-31", "2200-01-01", "", "2026-11-02T00:00"]
GOOD_TYPES = ["completion", "receipt", "sale"]
BAD_TYPES = ["count", "scrap", "Completion", " sale", "", "close"]
GOOD_ITEMS = ["STOOL", "SEAT", "LEG"]
BAD_ITEMS = ["KIT", "NOPE", " STOOL", "", "stool"]
GOOD_PRICES = ["", "1.50", "0", "1e2", " 2"]
BAD_PRICES = ["-1", "x", "1.1234567"]


def mostly(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(good * 4 + bad)


ODD = [(field, value) for field, values in (
    ("id", GOOD_IDS + BAD_IDS), ("date", GOOD_DATES + BAD_DATES),
    ("type", GOOD_TYPES + BAD_TYPES), ("item", GOOD_ITEMS + BAD_ITEMS),
    ("qty", GOOD_QTYS + BAD_QTYS), ("unit_price", GOOD_PRICES + BAD_PRICES)) for value in values]


@pytest.mark.parametrize(("field", "value"), ODD, ids=[f"{f}={v!r}"[:40] for f, v in ODD])
def test_each_odd_value_reads_alike_in_bulk_and_row_by_row(
        tmp_path: Path, field: str, value: str) -> None:
    rows: list[dict[str, Any]] = [
        {"id": "W1", "date": "2026-11-02", "type": "completion", "item": "STOOL", "qty": "5"},
        {"id": "R1", "date": "2026-11-02", "type": "receipt", "item": "SEAT", "qty": "5",
         "unit_price": "1.50"},
        {"id": "S1", "date": "2026-11-03", "type": "sale", "item": "STOOL", "qty": "2"}]
    for row in rows:
        row[field] = value
    for path in (write_csv(tmp_path / "e.csv", rows, HEADER[:6]),
                 write_jsonl(tmp_path / "e.jsonl", rows)):
        assert read(path) == row_by_row(path)


@st.composite
def flow_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row = {"id": draw(mostly(GOOD_IDS, BAD_IDS)),
               "date": draw(mostly(GOOD_DATES, BAD_DATES)),
               "type": draw(mostly(GOOD_TYPES, BAD_TYPES)),
               "item": draw(mostly(GOOD_ITEMS, BAD_ITEMS)),
               "qty": draw(st.one_of(mostly(GOOD_QTYS, BAD_QTYS), st.text(max_size=4)))}
        if draw(st.booleans()):
            row["unit_price"] = draw(mostly(GOOD_PRICES, BAD_PRICES))
        rows.append(row)
    return rows


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(rows=flow_rows())
def test_csv_in_bulk_gives_exactly_the_row_by_row_result(
        tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    path = write_csv(tmp_path / "e.csv", rows, HEADER[:6])
    assert read(path) == row_by_row(path)


JSON_VALUES = st.one_of(mostly(GOOD_QTYS, BAD_QTYS), st.integers(-10, 10**13), st.booleans(),
                        st.none(), st.just([1]), st.just({"a": 1}),
                        st.decimals(allow_nan=False, allow_infinity=False, places=3,
                                    min_value=-10**6, max_value=10**6))


@st.composite
def json_rows(draw: st.DrawFn) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        row: dict[str, Any] = {
            "id": draw(st.one_of(mostly(GOOD_IDS, BAD_IDS), st.integers(0, 99))),
            "date": draw(mostly(GOOD_DATES, BAD_DATES)),
            "type": draw(mostly(GOOD_TYPES, BAD_TYPES)),
            "item": draw(st.one_of(mostly(GOOD_ITEMS, BAD_ITEMS), st.integers(0, 9))),
            "qty": draw(JSON_VALUES)}
        if draw(st.booleans()):
            row["unit_price"] = draw(JSON_VALUES)
        if draw(st.integers(0, 3)) == 0:
            row.pop(draw(st.sampled_from(list(row))))
        text = json.dumps(row, default=lambda d: json.loads(str(d)) if isinstance(
            d, Decimal) else str(d))
        if draw(st.integers(0, 3)) == 0 and row:
            key = draw(st.sampled_from(list(row)))
            text = text[:-1] + f', "{key}": {json.dumps(row[key], default=str)}' + "}"
        if draw(st.integers(0, 9)) == 0:
            text = draw(st.sampled_from(["", "  ", "[1]", "{", "null", '{"location": "x"}']))
        lines.append(text)
    return lines


@pytest.mark.parametrize("decoder", ["msgspec", "json"])
@SETTINGS
@given(lines=json_rows())
def test_json_lines_in_bulk_give_exactly_the_row_by_row_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decoder: str, lines: list[str]
        ) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(loaders, "DECODER", decoder)
        bulk = read(path)
    assert bulk == row_by_row(path)


def test_every_row_a_different_shape_across_small_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[dict[str, Any]] = []
    for i in range(300):
        kind = ["completion", "receipt", "sale"][i % 3]
        row = {"id": f"E{i}", "date": f"2026-11-{1 + i % 28:02d}", "type": kind,
               "item": "STOOL" if kind != "receipt" else "SEAT", "qty": f"{i + 1}.{i % 10}"}
        if kind == "receipt" or (kind == "sale" and i % 2):
            row["unit_price"] = f"{i}.25"
        rows.append(row)
    rows[150] = {"id": "C1", "date": "2026-11-04", "type": "count", "item": "LEG", "qty": "3"}
    monkeypatch.setattr(loaders, "CHUNK_ROWS", 7)
    from backflush.adapters.files import tables
    monkeypatch.setattr(tables, "CHUNK_ROWS", 7)
    for path in (write_csv(tmp_path / "e.csv", rows, HEADER[:6]),
                 write_jsonl(tmp_path / "e.jsonl", rows)):
        got = read(path)
        assert len(got) == 300 and got == row_by_row(path)
        assert [e for *_, e in got][:3] == ["events[0] (E0)", "events[1] (E1)",
                                            "events[2] (E2)"]


def test_quoted_fields_spanning_chunks_give_the_csv_modules_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backflush.adapters.files import tables
    lines = ["id,date,type,item,qty,location"]
    for i in range(40):
        location = '"a\nb"' if i % 9 == 4 else "stores"
        lines.append(f"W{i},2026-11-02,completion,STOOL,{1 + i % 3},{location}")
    path = tmp_path / "e.csv"
    path.write_text("\r\n".join(lines) + "\r\n", newline="")
    whole = read(path)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 3)
    monkeypatch.setattr(tables, "CHUNK_BYTES", 50)
    assert read(path) == whole
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    assert len(rows) == 41  # the file's records, as csv.reader reads them


def test_templates_forgotten_mid_file_leave_every_row_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file of more distinct templates than are remembered (a plant's month of receipts at
    # their own prices): once they are forgotten, a later chunk's rows of shapes seen before
    # must get their own template again, not the number of one forgotten (found at 10
    # million events: an IndexError, or another row's template).
    monkeypatch.setattr(ev_module, "MAX_TEMPLATES", 10)
    monkeypatch.setattr(loaders, "CHUNK_ROWS", 7)
    rows = [{"id": f"R{i}", "date": "2026-11-03", "type": "receipt", "item": "SEAT",
             "qty": str(1 + i % 5 if i % 2 else 100 + i), "unit_price": "5.00"}
            for i in range(60)]  # (shapes seen before, and new ones, in every chunk)
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    got = read(path)
    assert got == row_by_row(path)
    assert [f"qty=Decimal('{r['qty']}')" in e[2] for e, r in zip(got, rows, strict=True)] == \
        [True] * len(rows)
