"""The bulk reader: CSV chunks of plain flows come as one FlowRun (checked column by column),
optionally read in a second process; what comes out, and what gets posted, must be exactly
what reading row by row gives, errors included."""

from __future__ import annotations

import csv
import json
import multiprocessing
import pickle
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backflush.adapters import tabular
from backflush.domain.errors import ValidationError
from backflush.domain.events import Close, Event, Flow, FlowRun
from backflush.domain.policy import Journal, Policy
from backflush.service_layer import reports, services
from tests.conftest import new_backend
from tests.test_summary import plant, reference, state

D = Decimal
HEADER = ["id", "date", "type", "item", "qty", "unit_price"]


def content(items: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for x in tabular.one_by_one(items):
        full = x.event() if isinstance(x, Flow) else x
        out.append((full.id, full.content()))
    return out


def to_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    header = list(HEADER)
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


def generated_csv(tmp_path: Path, seed: int, events: int) -> tuple[Any, Path, Path]:
    master, _ = plant(tmp_path, seed=seed, events=events)
    jsonl = tmp_path / f"plant{seed}" / "events.jsonl"
    rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    return master, jsonl, to_csv(tmp_path / "events.csv", rows)


@pytest.mark.parametrize("chunk", [1, 7, 64, 100_000])
@pytest.mark.parametrize("read_ahead", [False, True])
def test_csv_in_columns_gives_the_events_of_the_row_by_row_reader(
        tmp_path: Path, chunk: int, read_ahead: bool) -> None:
    master, jsonl, path = generated_csv(tmp_path, seed=5, events=400)
    got = list(tabular.stream_events(path, master, read_ahead=read_ahead, chunk=chunk))
    assert content(got) == content(tabular.stream_events(jsonl, master))
    runs = [x for x in got if isinstance(x, FlowRun)]
    if chunk in (1, 7):  # chunks without a count or a scrap quantity come in columns
        assert runs and sum(len(r) for r in runs) > 200
    if chunk == 100_000:  # the file has counts: its one chunk is read row by row
        assert not runs


def small_plant(tmp_path: Path) -> tuple[Any, str, str]:
    """A generated plant, one of its finished items and one of its parts."""
    master, _, _ = generated_csv(tmp_path, seed=5, events=50)
    finished = next(c for c, it in master.items.items() if it.made and not it.phantom)
    part = next(c for c, it in master.items.items() if not it.made)
    return master, finished, part


def flows_file(tmp_path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    path = tmp_path / "flows.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header or HEADER)
        w.writerows(rows)
    return path


def both_ways(path: Path, master: Any, monkeypatch: pytest.MonkeyPatch
              ) -> tuple[Any, Any, bool]:
    """(columnar result, row-by-row result, whether a FlowRun came): each either the
    events or the ValidationError's problems."""
    def read() -> tuple[Any, bool]:
        try:
            got = list(tabular.stream_events(path, master, read_ahead=False))
        except ValidationError as exc:
            return [str(p) for p in exc.problems], False
        return content(got), any(isinstance(x, FlowRun) for x in got)

    columns, came = read()
    with monkeypatch.context() as m:
        m.setattr(tabular, "_columns", lambda *a: None)
        rows, _ = read()
    return columns, rows, came


GOOD = [["W1", "2026-11-02", "completion", "{F}", "3", ""],
        ["S1", "2026-11-02", "sale", "{F}", "1.5", "12.50"],
        ["S2", "2026-11-03", "sale", "{F}", "2", ""],
        ["R1", "2026-11-03", "receipt", "{P}", "10", "0.75"]]
ODD = {  # one changed cell -> whether the chunk may still come in columns
    "canonical": (None, None, True),
    "qty with a trailing zero": (0, "3.0", True),
    "qty with a leading zero": (0, "03", False),
    "qty with an exponent": (0, "3e0", False),
    "qty with a plus": (0, "+3", False),
    "qty with a space": (0, " 3", False),
    "zero qty": (0, "0", False),
    "negative qty": (0, "-1", False),
    "not a number": (0, "three", False),
    "week date": (1, "2026-W45-1", False),
    "no such day": (1, "2026-11-31", False),
    "id with a leading space": (None, " W1", False),
    "empty id": (None, "", False),
    "unknown item": (2, "NOPE", False),
    "unknown type": (3, "shipment", False),
    "completion with a price": (4, "1.00", False),
    "receipt without a price": (5, "", False),
    "price with an exponent": (6, "1.2e1", False),
    "negative price": (6, "-1", False),
}


@pytest.mark.parametrize("case", list(ODD))
def test_odd_values_read_exactly_as_row_by_row(tmp_path: Path, case: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    master, finished, part = small_plant(tmp_path)
    rows = [[v.replace("{F}", finished).replace("{P}", part) for v in r] for r in GOOD]
    where, value, columnar = ODD[case]
    if where is not None:
        r, c = {0: (0, 4), 1: (1, 1), 2: (0, 3), 3: (0, 2), 4: (0, 5), 5: (3, 5),
                6: (1, 5)}[where]
        rows[r][c] = value
    elif value is not None:
        rows[0][0] = value
    columns, row_by_row, came = both_ways(flows_file(tmp_path, rows), master, monkeypatch)
    assert columns == row_by_row
    assert came is columnar


def test_short_rows_blank_lines_and_other_events_fall_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, finished, _ = small_plant(tmp_path)
    good = ["W1", "2026-11-02", "completion", finished, "3", ""]
    for rows in ([good, ["W2", "2026-11-02", "completion", finished, "3"]],
                 [good, [], ["W2", "2026-11-02", "completion", finished, "3", ""]],
                 [good, ["W2", "2026-11-02", "completion", finished, "3", "", "x"]],
                 [good, ["C1", "2026-11-02", "count", finished, "3", ""]]):
        columns, row_by_row, came = both_ways(flows_file(tmp_path, rows), master, monkeypatch)
        assert columns == row_by_row and not came


def test_a_file_without_a_price_column_reads_its_receipts_row_by_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, _, part = small_plant(tmp_path)
    path = flows_file(tmp_path, [["R1", "2026-11-02", "receipt", part, "3"]], HEADER[:5])
    columns, row_by_row, came = both_ways(path, master, monkeypatch)
    assert columns == row_by_row and not came and isinstance(columns[0], str)


def test_read_ahead_reports_the_same_problems_and_stops_when_closed(tmp_path: Path) -> None:
    master, _, path = generated_csv(tmp_path, seed=5, events=300)
    lines = path.read_text().splitlines()
    lines[40] = lines[40].replace("completion", "complet1on", 1)
    lines[250] = lines[250] + ",extra,cells"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError) as inline:
        list(tabular.stream_events(bad, master, read_ahead=False, chunk=16))
    with pytest.raises(ValidationError) as ahead:
        list(tabular.stream_events(bad, master, read_ahead=True, chunk=16))
    assert [str(p) for p in ahead.value.problems] == [str(p) for p in inline.value.problems]
    assert len(inline.value.problems) == 2
    stream = tabular.stream_events(path, master, read_ahead=True, chunk=8)
    next(iter(stream))
    assert multiprocessing.active_children()
    stream.close()  # type: ignore[attr-defined]
    assert not multiprocessing.active_children()


def test_flow_runs_slice_count_and_batch() -> None:
    rows = []
    for i in range(10):
        rows += [f"W{i}", f"2026-11-0{1 + i // 4}", "completion", "F1", "2", ""]
    rows[-1] = '{"unit_price": "3"}'
    rows[-4] = "sale"
    run = FlowRun(rows, 6, {f"2026-11-0{d}": date(2026, 11, d) for d in (1, 2, 3)},
                  {"2": D(2)}, {'{"unit_price": "3"}': D(3)})
    assert len(run) == 10 and run.priced
    assert run.days == ((0, 4, "2026-11-01"), (4, 8, "2026-11-02"), (8, 10, "2026-11-03"))
    assert run[9] == Flow("W9", "sale", date(2026, 11, 3), "F1", D(2), D(3))
    assert run[-1] == run[9] and list(run)[3] == run[3]
    assert sum(run.counts.values()) == 10
    assert run.counts[("completion", date(2026, 11, 3), "F1", D(2))] == 1
    part = run[3:9]
    assert list(part) == list(run)[3:9] and part.days[0] == (0, 1, "2026-11-01")
    assert not run[:8].priced and run.ids()[:2] == ["W0", "W1"]
    with pytest.raises(IndexError):
        run[10]
    for sent in (run, FlowRun(["A\x1fB", *rows[1:6]], 6, run.dates, run.numbers)):
        back = pickle.loads(pickle.dumps(sent))  # as the reading process hands it over
        assert list(back) == list(sent) and back.counts == sent.counts
        assert (back.days, back.priced) == (sent.days, sent.priced)
    # Counts are made on joined keys unless a value holds the separator: items "A\x1f" and
    # "A" with qty "\x1f2"... would join alike; such a run is counted on tuples instead.
    odd = FlowRun(["W1", "2026-11-01", "completion", "A\x1f", "2",
                   "W2", "2026-11-01", "completion", "A", "\x1f2",
                   "W3", "2026-11-01", "completion", "A\x1f", "2"], 5,
                  run.dates, {"2": D(2), "\x1f2": D(2)})
    assert odd.counts == {("completion", date(2026, 11, 1), "A\x1f", D(2)): 2,
                          ("completion", date(2026, 11, 1), "A", D(2)): 1}
    joined = FlowRun.join([run[:3], run[3:5], run[5:]])
    assert list(joined) == list(run) and joined.counts == run.counts
    assert (joined.days, joined.priced) == (run.days, run.priced)
    single = Flow("X", "completion", date(2026, 11, 1), "F1", D(1))
    batches = list(tabular.batched([single, run, single, run], 4))
    sizes = [sum(len(x) if isinstance(x, FlowRun) else 1 for x in b) for b in batches]
    assert sizes == [4, 4, 4, 4, 4, 2]
    assert content(x for b in batches for x in b) == content([single, run, single, run])


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("run_size", [50, 100_000])
def test_a_csv_posted_in_columns_gives_the_per_event_ledger(tmp_path: Path,
                                                            run_size: int) -> None:
    master, jsonl, path = generated_csv(tmp_path, seed=8, events=1500)
    events: list[Event | Flow] = list(tabular.stream_events(jsonl, master))
    policy = Policy()
    want = reference(master, policy, events)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, replace(policy, journal=Journal.SUMMARY),
                           date(2026, 11, 1))
    stream = tabular.stream_events(path, master, read_ahead=True, chunk=37)
    with b.uow() as uow:
        result = services.post_events_in(uow, stream, run_size=run_size)
        uow.commit()
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    # Runs end where chunks of 37 rows end: short runs with a pending issue to clear are
    # posted event by event.
    assert result.posted == len(events) and result.summarised > len(events) * 0.7
    assert reports.verify(b.ledger()) == []
    assert state(b.ledger()) == want
    again = services.post_events(b.uow(), tabular.stream_events(path, master, chunk=37))
    assert (again.posted, again.duplicates) == (0, len(events))


@pytest.mark.usefixtures("backend")
def test_a_run_with_thousands_of_alerts_stores_them_as_the_per_event_rules_do(
        tmp_path: Path) -> None:
    """No stock at all: every completion goes below zero and alerts (more than 500 in one
    run: their events are found by one pass over the run's rows)."""
    master, events = plant(tmp_path, seed=8, events=3000)
    completions = [e for e in events if e.type == "completion" and isinstance(e, Flow)]
    want = reference(master, Policy(), completions)
    assert len(want["alerts"]) > 500
    b = new_backend()
    services.set_up_ledger(b.uow(), master, Policy(journal=Journal.SUMMARY), date(2026, 11, 1))
    with b.uow() as uow:
        result = services.post_events_in(uow, completions, run_size=100_000)
        uow.commit()
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert result.summarised == len(completions)
    assert state(b.ledger()) == want


@pytest.mark.usefixtures("backend")
def test_ids_that_need_escaping_are_stored_as_read(tmp_path: Path) -> None:
    """A backslash, a tab or a newline in an id: COPY text must escape them (PostgreSQL)."""
    master, finished, part = small_plant(tmp_path)
    ids = ["W\\1", "W\t2", "W\n3", "W4"]
    rows = [[ident, "2026-11-02", "completion", finished, "1", ""] for ident in ids]
    rows.append(["S1", "2026-11-02", "sale", finished, "1", ""])
    rows.append(["R1", "2026-11-02", "receipt", part, "2", "1.50"])
    path = flows_file(tmp_path, rows)
    stream = list(tabular.stream_events(path, master, read_ahead=False))
    assert len(stream) == 1 and isinstance(stream[0], FlowRun)
    want = reference(master, Policy(), list(stream[0]))
    b = new_backend()
    services.set_up_ledger(b.uow(), master, Policy(journal=Journal.SUMMARY), date(2026, 11, 1))
    result = services.post_events(b.uow(), stream)
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert result.summarised == len(rows)
    assert state(b.ledger()) == want
    for ident in ids:
        stored = b.ledger().stored_event(ident)
        assert stored is not None and stored.id == ident


def test_events_read_one_by_one_come_through_the_reader_process_alike(tmp_path: Path) -> None:
    """JSON Lines (and CSV chunks read row by row) go over in lists of events."""
    master, jsonl, _ = generated_csv(tmp_path, seed=5, events=400)
    ahead = list(tabular.stream_events(jsonl, master, read_ahead=True))
    assert content(ahead) == content(tabular.stream_events(jsonl, master, read_ahead=False))
    assert not any(isinstance(x, FlowRun) for x in ahead)


CSV_TEXTS = [
    "a,b,c\n1,2,3\n4,5,6\n",
    "a,b,c\r\n1,2,3\r\n4,5,6\r\n",  # Windows line ends
    "a,b\r1,2\r3,4\n",  # lone carriage returns end lines too
    "a,b\n1,2\n\n3,4\n  \n5,6",  # a blank line, a line of spaces, no final line end
    'a,b\n1,2\n3,"x\ny"\n5,6\n7,8\n',  # a quoted field over two lines
    'a,b\n1,"2,5"\n"3",4\n',  # a quoted comma, quotes around a plain value
    "a,b\n1,2,3\n4\n,\n,,\n",  # too many, too few, empty cells
    "a,b\n1,\x002\n3,4\n",  # a NUL
    "a,b\n1," + "x" * (csv.field_size_limit() + 1) + "\n3,4\n",  # over csv's field limit
    "é,ü\nß,ø\n",
]


@pytest.mark.parametrize("text", CSV_TEXTS, ids=range(len(CSV_TEXTS)))
@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_csv_blocks_give_the_rows_csv_reader_gives(text: str, chunk: int) -> None:
    """Plain blocks are split on commas directly; the rows (and any error) must be those of
    csv.reader whatever the chunk, including where a quoted field crosses a block's end."""
    import io

    def with_csv() -> list[list[str]] | str:
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            return f"csv.Error: {exc}"

    def with_blocks() -> list[list[str]] | str:
        try:
            return [row for block in tabular._csv_blocks(io.StringIO(text, newline=""), chunk)
                    for row in block.rows]
        except csv.Error as exc:
            return f"csv.Error: {exc}"

    assert with_blocks() == with_csv()


def test_a_windows_csv_with_quotes_later_on_posts_like_row_by_row(tmp_path: Path) -> None:
    """The first chunks are plain (split directly), a later one has a quoted value: the
    events and their order are those the row-by-row reader gives."""
    master, finished, _ = small_plant(tmp_path)
    path = tmp_path / "mixed.csv"
    lines = ["id,date,type,item,qty"]
    lines += [f"W{i},2026-11-02,completion,{finished},{1 + i % 3}" for i in range(25)]
    lines[20] = f'W19,2026-11-02,completion,"{finished}",2'
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    got = content(tabular.stream_events(path, master, chunk=4, read_ahead=False))
    want = content(tabular.stream_events(path, master, chunk=10**6, read_ahead=False))
    row_by_row = content(tabular.read_events(path, master))
    assert got == want == row_by_row and len(got) == 25
