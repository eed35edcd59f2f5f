"""JSON and YAML documents: read without rewriting anything, every refusal naming its line."""

from __future__ import annotations

import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from backflush.adapters.files import limits, loaders
from backflush.adapters.files.loaders import LineDict, decode, load_document, load_json, load_yaml
from backflush.domain.errors import Problem, ValidationError


def refused(call: object, *args: object) -> Problem:
    with pytest.raises(ValidationError) as err:
        call(*args)  # type: ignore[operator]
    assert len(err.value.problems) == 1, err.value.problems
    return err.value.problems[0]


# ---------------------------------------------------------------------------------- YAML


def test_yaml_plain_scalars_stay_text_so_codes_and_ids_are_never_rewritten() -> None:
    doc = load_yaml("code: 010\nid: 1:20\nqty: 5.10\ndate: 2026-11-02\nbig: 1e3\n"
                    "octal: 0o17\nhex: 0x1F\nyes: yes\nno: no\non: on\nsexa: 190:20:30\n"
                    "inf: .inf\nnan: .nan\n", "f.yaml")
    assert doc == {"code": "010", "id": "1:20", "qty": "5.10", "date": "2026-11-02",
                   "big": "1e3", "octal": "0o17", "hex": "0x1F", "yes": "yes", "no": "no",
                   "on": "on", "sexa": "190:20:30", "inf": ".inf", "nan": ".nan"}


def test_yaml_null_and_booleans_are_the_core_schema_spellings_only() -> None:
    doc = load_yaml("a: ~\nb: null\nc:\nd: true\ne: False\nf: TRUE\ng: 'true'\nh: \"~\"\n"
                    "i: !!str true\nj: ! null\n", "f.yaml")
    assert doc == {"a": None, "b": None, "c": None, "d": True, "e": False, "f": True,
                   "g": "true", "h": "~", "i": "true", "j": "null"}


def test_every_yaml_mapping_knows_its_line_and_its_keys_lines() -> None:
    doc = load_yaml("top: 1\nevents:\n  - {type: receipt, qty: 5}\n  - type: sale\n"
                    "    qty: 3\n", "f.yaml")
    assert isinstance(doc, LineDict) and doc.line == 1 and doc.lines["events"] == 2
    first, second = doc["events"]
    assert first.line == 3 and second.line == 4 and second.lines == {"type": 4, "qty": 5}


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
    ("a: &x [1, 2]\nb: *x\n", 2, "aliases (*x) are not allowed: write the value out where "
     "it is used"),
    ("a: !!int 5\n", 1, "the tag '!!int' is not supported; write the value as plain text"),
    ("a: !!python/object:os.system x\n", 1, "the tag '!!python/object:os.system' is not "
     "supported; write the value as plain text"),
    ("a: 1\n---\nb: 2\n", 2, "the file holds a second document (---); a file holds one"),
    ("? [a, b]\n: 1\n", 1, "a key must be plain text, not a mapping or a list"),
    ("a: [1, 2\nb: 3\n", 2, "malformed YAML: while parsing a flow sequence did not find "
     "expected ',' or ']'"),
    ("a: 1\nb: x\x07y\n", 2, "malformed YAML: the character U+0007 is not allowed in YAML"),
])
def test_bad_yaml_is_one_problem_naming_its_line(text: str, line: int, message: str) -> None:
    p = refused(load_yaml, text, "f.yaml")
    assert (p.source, p.line, p.entry, p.message) == ("f.yaml", line, "document", message)


def test_yaml_nesting_beyond_the_limit_is_refused() -> None:
    text = "a: " + "[" * (limits.MAX_DEPTH + 1) + "]" * (limits.MAX_DEPTH + 1) + "\n"
    p = refused(load_yaml, text, "f.yaml")
    assert p.message == f"nested deeper than {limits.MAX_DEPTH} levels" and p.line == 1
    ok = "a: " + "[" * (limits.MAX_DEPTH - 1) + "]" * (limits.MAX_DEPTH - 1)
    assert load_yaml(ok, "f.yaml") is not None


BOMB = "\n".join(["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
                 + [f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
                    for p, c in zip("abcdefgh", "bcdefghi", strict=True)]) + "\n"


def test_a_yaml_alias_bomb_fails_at_once_in_little_memory() -> None:
    assert len(BOMB.encode()) < 700  # the classic 639-byte bomb, give or take its spelling
    tracemalloc.start()
    started = time.perf_counter()
    try:
        p = refused(load_yaml, BOMB, "bomb.yaml")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.line == 2 and "aliases (*a) are not allowed" in p.message
    assert elapsed < 0.5 and peak < 5_000_000


# ---------------------------------------------------------------------------------- JSON


def test_json_numbers_with_a_point_are_exact_decimals() -> None:
    doc = load_json('{"qty": 5.10, "n": 3, "big": 1e400, "tiny": 0.1e-30}', "f.json")
    assert doc == {"qty": Decimal("5.10"), "n": 3, "big": Decimal("1e400"),
                   "tiny": Decimal("0.1e-30")}
    assert str(doc["qty"]) == "5.10" and type(doc["n"]) is int


@pytest.mark.parametrize(("text", "line", "message"), [
    ('{\n "a": 1,\n "b": {"c": 1},\n "a": 2\n}', 4, "duplicate key 'a'"),
    ('{"a": {"x": 1,\n "x": 2}}', 2, "duplicate key 'x'"),
    ('{"a": 1,\n "b": NaN}', 2, "NaN is not a number (JSON has no NaN); write a decimal "
     "number"),
    ('[1,\n-Infinity]', 2, "-Infinity is not a number (JSON has no Infinity); write a "
     "decimal number"),
    ('{"a": 1\n "b": 2}', 2, "malformed JSON: Expecting ',' delimiter (column 2)"),
    ('{"n": ' + "9" * 200 + "}", 1, "a number of 200 characters is too long"),
])
def test_bad_json_is_one_problem_naming_its_line(text: str, line: int, message: str) -> None:
    p = refused(load_json, text, "f.json")
    assert (p.source, p.line, p.entry, p.message) == ("f.json", line, "document", message)


def test_json_nesting_beyond_the_limit_is_refused_and_deep_recursion_too() -> None:
    depth = limits.MAX_DEPTH + 1
    p = refused(load_json, "[" * depth + "]" * depth, "f.json")
    assert p.message == f"nested deeper than {limits.MAX_DEPTH} levels" and p.line == 1
    p = refused(load_json, "[" * 100_000 + "]" * 100_000, "f.json")
    assert "nested deeper than" in p.message


# ---------------------------------------------------------------------------------- bytes


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    data = loaders.BOM + b"format: 1\n"
    assert load_document(data, "f.yaml", ".yaml") == {"format": "1"}
    assert load_document(loaders.BOM + b'{"format": 1}', "f.json", ".json") == {"format": 1}


def test_bytes_that_are_not_utf8_name_the_byte_and_the_line() -> None:
    p = refused(decode, b"format: 1\nname: caf\xe9\n", "latin1.yaml")
    assert (p.line, p.entry, p.message) == (
        2, "file", "not UTF-8 text at byte 20; save the file as UTF-8")  # counted from 1
    p = refused(load_document, b"\xff\xfe{}", "utf16.json", ".json")
    assert p.message.startswith("not UTF-8 text at byte 1")


def test_documents_beyond_their_size_are_refused_before_reading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "MAX_YAML_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n")
    p = refused(loaders.load_path, path)
    assert p.message == "the file is 204 bytes; a YAML document may be at most 100 bytes"
    p = refused(loaders.load_path, tmp_path / "missing.yaml")
    assert p.message.startswith("cannot read: No such file or directory")
