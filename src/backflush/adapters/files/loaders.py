"""JSON, YAML and JSON Lines as plain data (dicts, lists, text, ints, Decimals, booleans,
None), read so that nothing in them is rewritten.

* **JSON**: numbers with a point or an exponent become Decimals (never binary floats);
  duplicate keys, NaN and Infinity (Python's json accepts them), over-long numbers and
  nesting beyond :data:`~.limits.MAX_DEPTH` are refused, naming the line.
* **YAML**: every plain scalar is *text* but ``null``/``~``/empty and ``true``/``false`` (the
  YAML 1.2 core spellings): ``code: 010`` is "010" (PyYAML would say 8), ``id: 1:20`` is
  "1:20" (not 80, sexagesimal), ``qty: 5.10`` the text a decimal field parses exactly,
  ``yes``/``on`` stay text, dates stay text until a date field parses them. The document is
  built from the parser's events by :class:`_Composer`, without recursion, refusing aliases
  (a 639-byte alias bomb stands for billions of nodes), duplicate keys, deep nesting,
  unsupported tags and a second document, each with its line.
* **JSON Lines**: blocks of lines for the bulk reader, decoded by msgspec (lossless with
  ``float_hook=Decimal``), and single lines the json module's way.

Every mapping is a :class:`LineDict` that knows its line and its keys' (YAML; JSON documents
give no positions). Bytes that are not UTF-8 are a problem naming the byte; a UTF-8
byte-order mark is skipped.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import yaml

from backflush.adapters.files.limits import (
    CHUNK_BYTES,
    CHUNK_ROWS,
    MAX_DEPTH,
    MAX_JSON_BYTES,
    MAX_LINE_BYTES,
    MAX_YAML_BYTES,
    field_text,
    kind,
    refuse,
    too_big,
)
from backflush.domain.text import safe

BOM = b"\xef\xbb\xbf"
LONGEST_NUMBER = 100  # characters of a JSON number; a longer one is refused outright


class LineDict(dict[str, Any]):
    """A mapping read from a file: ``line`` where it starts, ``lines`` where each key is."""

    __slots__ = ("line", "lines")

    def __init__(self, *args: Any, line: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.lines: dict[str, int] = {}

    def line_of(self, key: object) -> int | None:
        """The line of ``key`` when known, else the mapping's own."""
        return self.lines.get(key, self.line) if isinstance(key, str) else self.line


class LineList(list[Any]):
    """A list read from a file, with the line it starts on."""

    __slots__ = ("line",)

    def __init__(self, *args: Any, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line


def line_of(value: object) -> int | None:
    return getattr(value, "line", None)


def read_bytes(path: Path, limit: int, what: str) -> bytes:
    """The file's bytes; ValidationError when it cannot be read or is beyond ``limit``
    (checked before reading when the file says its size, and while reading in any case)."""
    source = str(path)
    try:
        with path.open("rb") as fh:
            info = os.fstat(fh.fileno())
            problem = too_big(info.st_size, limit, what) if stat.S_ISREG(info.st_mode) else None
            data = b"" if problem else fh.read(limit + 1)
    except OSError as exc:
        raise refuse("file", f"cannot read: {exc.strerror or exc}", source) from None
    if problem or len(data) > limit:
        raise refuse("file", problem or f"the file is more than {limit:,} bytes; {what} may "
                     f"be at most {limit:,} bytes", source)
    return data


def utf8_problem(data: bytes, exc: UnicodeDecodeError, offset: int = 0) -> tuple[str, int]:
    """The message and line for bytes that are not UTF-8 (``offset``: of ``data`` in the
    file, for the byte's number)."""
    at = exc.start
    return f"not UTF-8 text at byte {offset + at + 1:,}", data.count(b"\n", 0, at) + 1


def decode(data: bytes, source: str | None) -> str:
    """UTF-8 text (a leading byte-order mark skipped); ValidationError naming the byte."""
    start = 3 if data.startswith(BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        message, line = utf8_problem(data[start:], exc, start)
        raise refuse("file", message + "; save the file as UTF-8", source, line) from None


def load_document(data: bytes, source: str, suffix: str) -> Any:
    """A whole JSON (``.json``) or YAML (anything else) document from its bytes."""
    is_json = suffix.lower() == ".json"
    limit, what = (MAX_JSON_BYTES, "a JSON document") if is_json else \
        (MAX_YAML_BYTES, "a YAML document")
    problem = too_big(len(data), limit, what)
    if problem is not None:
        raise refuse("file", problem, source)
    text = decode(data, source)
    return load_json(text, source) if is_json else load_yaml(text, source)


def load_path(path: Path) -> Any:
    is_json = path.suffix.lower() == ".json"
    data = read_bytes(path, MAX_JSON_BYTES if is_json else MAX_YAML_BYTES,
                      "a JSON document" if is_json else "a YAML document")
    return load_document(data, str(path), path.suffix)


# ---------------------------------------------------------------------------------- JSON


class _Refused(ValueError):
    """Raised from the json module's hooks: the document has something we refuse (``key``:
    the duplicate key, when that is what it is)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> LineDict:
    out = LineDict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {safe(key)}", key)
            seen.add(key)
    return out


def _float(text: str) -> Decimal:
    if len(text) > LONGEST_NUMBER:
        raise _Refused(f"a number of {len(text):,} characters is too long")
    return Decimal(text)


def _int(text: str) -> int | Decimal:
    if len(text) > LONGEST_NUMBER:
        raise _Refused(f"a number of {len(text):,} characters is too long")
    return int(text)


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number (JSON has no {name}); write a decimal number")


JSON_HOOKS: dict[str, Any] = {"object_pairs_hook": _pairs, "parse_float": _float,
                              "parse_int": _int, "parse_constant": _constant}


def load_json(text: str, source: str | None, entry: str = "document") -> Any:
    """A JSON document; ValidationError (one problem, naming the line) when malformed."""
    try:
        value = json.loads(text, **JSON_HOOKS)
    except json.JSONDecodeError as exc:
        raise refuse(entry, f"malformed JSON: {exc.msg} (column {exc.colno})", source,
                     exc.lineno) from None
    except _Refused as exc:
        line, message = _locate(text)
        raise refuse(entry, message or str(exc), source, line) from None
    except RecursionError:
        line, message = _locate(text)
        raise refuse(entry, message or f"nested deeper than {MAX_DEPTH} levels", source,
                     line) from None
    if _depth_beyond(value, MAX_DEPTH):
        line, message = _locate(text)
        raise refuse(entry, message or f"nested deeper than {MAX_DEPTH} levels", source,
                     line) from None
    return value


def _depth_beyond(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.S)
_CONSTANTS = {"NaN", "Infinity", "-Infinity"}


def _locate(text: str) -> tuple[int | None, str | None]:
    """Where a document the json module parsed (or nearly) breaks one of our rules, by a
    walk over its tokens (only when something was found: it is slower than parsing)."""
    stack: list[set[str] | None] = []  # a set of keys per open object, None per list
    previous = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        line = text.count("\n", 0, match.start()) + 1
        if token in "{[":
            stack.append(set() if token == "{" else None)
            if len(stack) > MAX_DEPTH:
                return line, f"nested deeper than {MAX_DEPTH} levels"
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ":" and stack and stack[-1] is not None and previous.startswith('"'):
            try:
                key = json.loads(previous)
            except ValueError:
                key = previous
            if key in stack[-1]:
                return line, f"duplicate key {safe(str(key))}"
            stack[-1].add(key)
        elif token in _CONSTANTS:
            return line, f"{token} is not a number (JSON has no {token.lstrip('-')}); " \
                         "write a decimal number"
        elif token[0] in "-0123456789" and len(token) > LONGEST_NUMBER:
            return line, f"a number of {len(token):,} characters is too long"
        previous = token
    return None, None


# ---------------------------------------------------------------------------------- YAML

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_PLAIN: dict[str, bool | None] = {  # the only plain scalars that are not text
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_Loader: type[Any] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # libyaml when present


class _YamlProblem(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _tag_name(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


class _Composer:
    """Builds the document from parser events, with a stack instead of recursion."""

    def __init__(self) -> None:
        self.stack: list[Any] = []  # open LineDicts and LineLists
        self.keys: list[str | None] = []  # per open container: the key waiting for a value
        self.root: Any = None
        self.documents = 0

    def scalar(self, event: Any) -> None:
        tag = event.tag
        line = _line(event)
        if tag not in (None, "!", _STR):
            raise _YamlProblem(f"the tag {safe(_tag_name(tag))} is not supported; write the "
                               "value as plain text", line)
        raw: str = event.value
        if self.stack and isinstance(self.stack[-1], LineDict) and self.keys[-1] is None:
            mapping = self.stack[-1]
            if raw in mapping:
                raise _YamlProblem(f"duplicate key {safe(raw)} (first on line "
                                   f"{mapping.lines.get(raw, mapping.line)})", line)
            self.keys[-1] = raw
            mapping.lines[raw] = line
            return
        plain = tag is None and event.implicit[0] and raw in _PLAIN  # null or a boolean
        self.add(_PLAIN[raw] if plain else raw, line)

    def add(self, value: Any, line: int) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top, LineDict):
            key = self.keys[-1]
            if key is None:
                raise _YamlProblem("a key must be plain text, not a mapping or a list", line)
            top[key] = value
            self.keys[-1] = None
        else:
            top.append(value)

    def open(self, container: LineDict | LineList, event: Any, allowed: str) -> None:
        line = _line(event)
        if event.tag not in (None, "!", allowed):
            raise _YamlProblem(f"the tag {safe(_tag_name(event.tag))} is not supported", line)
        if self.stack and isinstance(self.stack[-1], LineDict) and self.keys[-1] is None:
            raise _YamlProblem("a key must be plain text, not a mapping or a list", line)
        if len(self.stack) >= MAX_DEPTH:
            raise _YamlProblem(f"nested deeper than {MAX_DEPTH} levels", line)
        self.stack.append(container)
        self.keys.append(None)

    def close(self) -> None:
        container = self.stack.pop()
        self.keys.pop()
        self.add(container, container.line or 0)

    def feed(self, events: Iterator[Any]) -> Any:
        for event in events:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self.scalar(event)
            elif kind is yaml.MappingStartEvent:
                self.open(LineDict(line=_line(event)), event, _MAP)
            elif kind is yaml.SequenceStartEvent:
                self.open(LineList(line=_line(event)), event, _SEQ)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self.close()
            elif kind is yaml.AliasEvent:
                raise _YamlProblem(f"aliases (*{event.anchor}) are not allowed: write the "
                                   "value out where it is used", _line(event))
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise _YamlProblem("the file holds a second document (---); a file "
                                       "holds one", _line(event))
        return self.root


def _events(text: str) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def load_yaml(text: str, source: str | None, entry: str = "document") -> Any:
    """A YAML document; ValidationError (one problem, naming the line) when malformed."""
    try:
        return _Composer().feed(_events(text))
    except _YamlProblem as exc:
        raise refuse(entry, exc.message, source, exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise refuse(entry, f"malformed YAML: {message}", source,
                     mark.line + 1 if mark is not None else None) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if exc.position >= 0 else None
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) \
            else repr(exc.character)
        raise refuse(entry, f"malformed YAML: the character {what} is not allowed in YAML",
                     source, line) from None
    except yaml.YAMLError as exc:
        raise refuse(entry, f"malformed YAML: {safe(str(exc), 200)}", source) from None


def line_at(raw: object, loc: Sequence[str | int], default: int | None) -> int | None:
    """The line of what ``loc`` points at inside ``raw`` (a key's own line when known)."""
    line = line_of(raw) or default
    node: Any = raw
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            line = node.lines.get(part, line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = line_of(node) or line
        else:
            break
    return line


# ---------------------------------------------------------------------------------- JSON Lines


class Flow(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A plain flow as msgspec decodes it: id, date, type and item given, as text, and qty
    given (else the chunk goes the general way); qty and unit_price are for the models."""

    id: str
    date: str
    type: str
    item: str
    qty: Any
    unit_price: Any = msgspec.UNSET


FLOW_KEYS = ("id", "date", "type", "item", "qty", "unit_price")
FLOW_SET = frozenset(FLOW_KEYS)
FLOWS = msgspec.json.Decoder(list[Flow], float_hook=Decimal)
ANY = msgspec.json.Decoder(float_hook=Decimal)
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError)
DECODER = "msgspec"  # or "json": the json module on the same chunks (for comparison)


def colons(obj: Mapping[str, Any] | Flow) -> int:
    """The colons inside the text values of a decoded line (not of its keys)."""
    values = obj.values() if isinstance(obj, Mapping) else (getattr(obj, k) for k in FLOW_KEYS)
    return sum(v.count(":") for v in values if isinstance(v, str))


def keys_of(obj: Mapping[str, Any] | Flow) -> int:
    """The keys a decoded line has."""
    return len(obj) if isinstance(obj, Mapping) else \
        sum(getattr(obj, k) is not msgspec.UNSET for k in FLOW_KEYS)


def decode_flows(chunk: bytes, n: int) -> tuple[list[Any] | None, bool]:
    """A chunk's ``n`` lines (a JSON array) as msgspec structs (True), the json module's
    mappings of flow fields only (False), or None: some line is not such an object."""
    try:
        if DECODER == "msgspec":
            objs: list[Any] = FLOWS.decode(chunk)
            return (objs, True) if len(objs) == n else (None, False)
        objs = json.loads(chunk, parse_float=Decimal)
    except (*DECODE_ERRORS, RecursionError):
        return None, False
    if len(objs) == n and set(map(type, objs)) == {dict} and all(map(FLOW_SET.issuperset, objs)):
        return objs, False
    return None, False


def json_line_blocks(fh: BinaryIO, source: str) -> Iterator[tuple[list[bytes], int, int]]:
    """A JSON Lines file as (lines, number of the first, its byte offset): blocks of
    :data:`CHUNK_BYTES` split on newlines, :data:`CHUNK_ROWS` lines at most, no line longer
    than :data:`MAX_LINE_BYTES`."""
    carry, number, offset, start = b"", 1, 0, True
    while True:
        block = fh.read(CHUNK_BYTES)
        if start:
            start = False
            if block.startswith(BOM):
                block, offset = block[3:], 3
        if not block:
            if carry:
                yield [carry], number, offset
            return
        parts = (carry + block).split(b"\n")
        carry = parts.pop()
        if max(map(len, [*parts, carry])) > MAX_LINE_BYTES:
            at = number + next(k for k, p in enumerate([*parts, carry])
                               if len(p) > MAX_LINE_BYTES)
            raise refuse(f"line {at}", f"the line is longer than {MAX_LINE_BYTES:,} bytes",
                         source, at)
        for k in range(0, len(parts), CHUNK_ROWS):
            chunk = parts[k:k + CHUNK_ROWS]
            yield chunk, number + k, offset
            offset += sum(map(len, chunk)) + len(chunk)
        number += len(parts)


def json_line(line: bytes, offset: int) -> tuple[LineDict | None, str | None, str]:
    """One line the json module's way (duplicate keys, NaN and long numbers refused): the
    object, or None with the field and the message saying why."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, None, utf8_problem(line, exc, offset)[0]
    try:
        raw = json.loads(text, **JSON_HOOKS)
    except json.JSONDecodeError as exc:
        return None, None, f"malformed JSON: {exc.msg} (column {exc.colno})"
    except _Refused as exc:
        return None, None if exc.key is None else field_text(exc.key), str(exc)
    except (ValueError, RecursionError) as exc:
        return None, None, "nested too deeply" if isinstance(exc, RecursionError) else \
            f"not a JSON value: {safe(str(exc))}"
    if not isinstance(raw, LineDict):
        return None, None, f"expected a JSON object, got {kind(raw)}"
    return raw, None, ""
