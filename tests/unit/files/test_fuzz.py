"""Whatever the bytes, a reader either reads them or raises ValidationError, within bounded
time and memory: random bytes, mutations of good files, and files made to hurt."""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from backflush.adapters.files import limits, load_scenario, read_items, stream_events
from backflush.domain.errors import ValidationError
from backflush.domain.masterdata import MasterData

ROOT = Path(__file__).resolve().parents[3]
STOOL_YAML = (ROOT / "examples" / "stool.yaml").read_bytes()
MASTER: MasterData = load_scenario(ROOT / "examples" / "stool.yaml").master
EVENTS_CSV = (b"id,date,type,item,qty,unit_price,hours\n"
              b"PO-1,2026-11-02,receipt,SEAT,100,5.10,\n"
              b'W1,2026-11-03,completion,STOOL,10,,"WELD=2"\n'
              b"S1,2026-11-05,sale,STOOL,4,25.50,\n")
EVENTS_JSONL = b"".join(json.dumps(r).encode() + b"\n" for r in [
    {"id": "PO-1", "date": "2026-11-02", "type": "receipt", "item": "SEAT", "qty": "100",
     "unit_price": 5.10},
    {"id": "W1", "date": "2026-11-03", "type": "completion", "item": "STOOL", "qty": 10},
    {"type": "close", "period": "2026-11"}])
ITEMS_CSV = b"code,uom,type,standard_cost,phantom\nSEAT,ea,purchased,5.00,no\nKIT,ea,made,,yes\n"


def readers(path: Path) -> list[Callable[[], Any]]:
    """Every reader that takes a file like ``path``."""
    suffix = path.suffix
    out: list[Callable[[], Any]] = [lambda: list(stream_events(path, MASTER))]
    if suffix in (".yaml", ".json"):
        out.append(lambda: load_scenario(path))
    if suffix in (".csv", ".xlsx"):
        out.append(lambda: read_items(path, MASTER))
    return out


def survives(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    for read in readers(path):
        try:
            read()
        except ValidationError as exc:
            assert exc.problems or exc.more
            assert all(len(str(p)) < 2_000 for p in exc.problems)


FUZZ = settings(max_examples=300, deadline=2_000,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SUFFIXES = [".yaml", ".json", ".csv", ".jsonl", ".xlsx"]


@FUZZ
@given(data=st.binary(max_size=3_000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_raise_nothing_but_validation_errors(tmp_path: Path, data: bytes,
                                                          suffix: str) -> None:
    survives(tmp_path / f"f{suffix}", data)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        what = draw(st.sampled_from(["flip", "insert", "delete", "repeat"]))
        byte = draw(st.sampled_from(b'\x00\xff\n\r,"{}[]:&*!#-? \t\\\xe9\xc3'
                                    + bytes(range(0x20, 0x7f))))
        if what == "flip" and at < len(data):
            data[at] = byte
        elif what == "insert":
            data[at:at] = bytes([byte])
        elif what == "delete" and at < len(data):
            del data[at]
        elif what == "repeat":
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 40))]) * draw(
                st.integers(1, 50))
    return bytes(data)


@FUZZ
@given(data=mutated(STOOL_YAML))
def test_mutated_scenarios(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path / "s.yaml", data)


@FUZZ
@given(data=mutated(json.dumps(json.loads(json.dumps(
    __import__("yaml").safe_load(STOOL_YAML), default=str))).encode()))
def test_mutated_json_scenarios(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path / "s.json", data)


@FUZZ
@given(data=mutated(EVENTS_CSV))
def test_mutated_csv_event_files(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path / "e.csv", data)


@FUZZ
@given(data=mutated(EVENTS_JSONL))
def test_mutated_json_lines(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path / "e.jsonl", data)


@FUZZ
@given(data=mutated(ITEMS_CSV))
def test_mutated_master_data(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path / "items.csv", data)


# ---------------------------------------------------------------------------------- hostile


def bounded(read: Callable[[], Any], seconds: float = 1.0, megabytes: float = 100) -> str:
    """``read``'s refusal, checked to come within the time (run as it is) and the memory
    (run again, traced: tracing slows every allocation down) given."""
    started = time.perf_counter()
    with pytest.raises(ValidationError) as err:
        read()
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"{elapsed:.2f} s"
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError):
            read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 1e6, f"{peak / 1e6:.1f} MB"
    return str(err.value.problems[0])


def billion_laughs() -> bytes:
    entities = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    return ('<?xml version="1.0"?><!DOCTYPE worksheet [' + "".join(entities) + ']>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c></row>'
            '</sheetData></worksheet>').encode()


HOSTILE: dict[str, Callable[[Path], bytes]] = {
    "deep.yaml": lambda p: b"a: " + b"[" * 1_000_000,
    "deep.json": lambda p: b"[" * 1_000_000 + b"]" * 1_000_000,
    "wide.json": lambda p: b'{"format": 1, "items": [{"code": "A", "standard_cost": '
                           + b"1" * 10_000_000 + b"}]}",
    "long.csv": lambda p: b"id,date,type,item,qty\nW1," + b"x" * 30_000_000,
    "commas.csv": lambda p: b"id,date,type,item,qty\n" + b"," * 20_000_000 + b"\n",
    "long.jsonl": lambda p: b'{"id": "' + b"x" * 30_000_000 + b'"}\n',
    "quote.csv": lambda p: b'id,date,type,item,qty\nW1,"' + b"x\n" * 5_000_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_files_made_to_hurt_fail_fast_in_little_memory(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(HOSTILE[name](path))
    reader = (lambda: load_scenario(path)) if name.endswith((".yaml", ".json")) else \
        (lambda: list(stream_events(path, MASTER)))
    assert bounded(reader)


def test_an_xlsx_with_an_entity_bomb_fails_fast(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as dst:
        for part in src.infolist():
            data = src.read(part)
            dst.writestr(part, billion_laughs() if part.filename.endswith("sheet1.xml")
                         else data)
    assert bounded(lambda: list(stream_events(bomb, MASTER)))
    assert bounded(lambda: read_items(bomb, MASTER))


def test_the_limits_hold_what_they_say() -> None:
    assert limits.MAX_PROBLEMS == 100 and limits.MAX_DEPTH >= 8
    assert limits.CHUNK_ROWS * 100 >= limits.CHUNK_BYTES  # rows are what bounds a chunk
