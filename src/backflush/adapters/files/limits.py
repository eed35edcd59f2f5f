"""Bounds on the work a file may ask of the readers, and the problems list they fill.

A reader's input comes from outside: a file made by hand, by an export, or by someone who
wants the engine to fall over. Every resource a file can make a reader spend is bounded here,
and going beyond a bound is one clear :class:`~backflush.domain.errors.Problem`, never a
traceback, a hang or a machine out of memory. The figures:

* **Whole documents** (scenarios, master-data tables) are read into memory, so their size is
  bounded: :data:`MAX_JSON_BYTES`, :data:`MAX_YAML_BYTES` (YAML is read some ten times slower
  than JSON, so it gets less), :data:`MAX_TABLE_BYTES`.
* **Streamed event files** (CSV, JSON Lines) may be of any size: memory is bounded by the
  chunk (:data:`CHUNK_ROWS` rows or :data:`CHUNK_BYTES` of text, whichever comes first) and
  each line by :data:`MAX_LINE_BYTES`; a CSV field by the csv module's own limit.
* **Structure**: nesting (:data:`MAX_DEPTH`), YAML aliases (refused: an alias bomb of a few
  hundred bytes would otherwise stand for billions of nodes), header cells
  (:data:`MAX_COLUMNS`).
* **XLSX**: a workbook is a zip, so its compressed size tells little; the sizes its
  directory declares (:data:`MAX_XLSX_UNCOMPRESSED`), and rows and columns
  (:data:`MAX_XLSX_ROWS`, :data:`MAX_COLUMNS`), are checked before a cell is read.
* **Values**: each field type (:data:`Quantity`, :data:`Code`, :data:`Day`...) accepts
  exactly what is unambiguous, within the domain's own bounds: the digits and places of
  :data:`backflush.domain.numbers.LIMITS`, ids of 200 characters, codes of 100 and free text
  of 500 (:mod:`backflush.domain.text`). Decimals come from text, an int or a Decimal, never
  a binary float (``5.1`` already is 5.0999...) nor a boolean; codes and ids from text (an
  int becomes its text); dates from a date or ``YYYY-MM-DD``; booleans from booleans. The
  models of :mod:`.schemas` are made of these types. :func:`bad_ids` applies the id rule to a
  whole column in one pass of its own pattern.
* **Problems**: the first :data:`MAX_PROBLEMS` are listed, the rest only counted. An
  :class:`Issue` is a problem inside one value (its location there, and the message), before
  a reader places it in its file; :class:`Invalid` carries them all.
"""

from __future__ import annotations

import csv
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Union

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from backflush.domain import text
from backflush.domain.errors import NumberError, Problem, ValidationError
from backflush.domain.numbers import LIMITS, Limit, to_decimal
from backflush.domain.text import IDENT_PATTERN, printable_idents

MB = 1_000_000

MAX_JSON_BYTES = 50 * MB  # a scenario (or a list of events) as one JSON document
MAX_YAML_BYTES = 20 * MB  # the same as YAML: about five seconds of parsing
MAX_TABLE_BYTES = 50 * MB  # a master-data CSV read whole
MAX_XLSX_BYTES = 50 * MB  # an .xlsx file as stored (compressed)
MAX_XLSX_UNCOMPRESSED = 250 * MB  # what its parts declare they expand to, all together
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit
MAX_COLUMNS = 100  # header cells (an event file uses fewer than 20)

MAX_DEPTH = 32  # nesting of mappings and lists (a scenario needs 8)
MAX_LINE_BYTES = 1 * MB  # one line of a streamed file (CSV, JSON Lines)
MAX_FIELD_CHARS = csv.field_size_limit()  # one CSV field: the csv module's limit

CHUNK_ROWS = 50_000  # rows of a streamed file read and checked together
CHUNK_BYTES = 4 * MB  # ... or this much text, whichever comes first

MAX_PROBLEMS = 100  # problems listed; beyond, only counted


def too_big(size: int, limit: int, what: str) -> str | None:
    """Why a file of ``size`` bytes is refused, or None."""
    if size <= limit:
        return None
    return f"the file is {size:,} bytes; {what} may be at most {limit:,} bytes"


class Problems:
    """The problems found so far: the first :data:`MAX_PROBLEMS` kept, the rest counted.

    ``add`` answers whether the problem was listed, so a reader can stop doing expensive
    work for problems nobody will see (it still counts them).
    """

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.listed: list[Problem] = []
        self.more = 0

    def __bool__(self) -> bool:
        return bool(self.listed) or self.more > 0

    def __len__(self) -> int:
        return len(self.listed) + self.more

    @property
    def full(self) -> bool:
        return len(self.listed) >= self.limit

    def add(self, problem: Problem) -> bool:
        if len(self.listed) < self.limit:
            self.listed.append(problem)
            return True
        self.more += 1
        return False

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def error(self) -> ValidationError:
        return ValidationError(self.listed, more=self.more)

    def raise_if_any(self) -> None:
        if self:
            raise self.error()


def refuse(entry: str, message: str, source: str | None, line: int | None = None,
           field: str | None = None) -> ValidationError:
    """A ValidationError of one problem (what a reader raises when it cannot go on)."""
    return ValidationError([Problem(entry, field, message, source, line)])


# ---------------------------------------------------------------------------------- issues


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong, at ``loc`` (keys and list positions) inside the validated data."""

    loc: tuple[str | int, ...]
    message: str

    @property
    def field(self) -> str | None:
        return dotted(self.loc) or None


class Invalid(Exception):
    """What a validation or a ``to_domain()`` found wrong: every issue, not just the first."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in self.issues))


def field_text(name: object) -> str:
    """A key or column name as a problem may show it: as it is when it is a plain code,
    else escaped and cut short (a file's keys are as untrusted as its values)."""
    shown = str(name)
    return shown if text.CODE_PATTERN.fullmatch(shown) else text.safe(shown)[1:-1]


def dotted(loc: Iterable[str | int]) -> str:
    """``('hours', 'WELD')`` as ``hours.WELD``, ``('trigger_points', 2)`` as
    ``trigger_points[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + field_text(part)
    return out


def kind(value: object) -> str:
    """What a value is, in words (never the value itself: it may be huge)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__


def as_code(value: object) -> str | None:
    """``value`` as a code when it is one (to name an entry by it), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and text.CODE_PATTERN.fullmatch(value):
        return value
    return None


def _shown(value: object) -> str:
    if isinstance(value, str):
        return text.safe(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        shown = str(value) if -(10**30) < value < 10**30 else ""  # a huge one: no short text
        return shown if shown and len(shown) <= 40 else "a number"
    return kind(value)


def fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("backflush", "{message}", {"message": message})


_WHAT = "value"


def _tail(exc: NumberError) -> str:
    """A domain message without the ``value: `` the check was given as the field's name."""
    message = str(exc)
    return message[len(_WHAT) + 2:] if message.startswith(_WHAT + ": ") else message


# ---------------------------------------------------------------------------------- values

MEMO_SIZE = 100_000  # checked values remembered per field type
MEMO_LONGEST = 200  # longer text is checked every time (and not kept)


def _memo(check: Any) -> Any:
    """``check`` remembered for text and ints: the checks are pure functions of the value,
    and a plant's files repeat their dates, items and quantities endlessly. Keyed on the
    type too (``True == 1`` in Python, and ``"1"`` is not ``1``)."""
    seen: dict[tuple[type, object], tuple[bool, Any]] = {}

    def run(value: object) -> Any:
        kind_ = type(value)
        if (kind_ is not str and kind_ is not int) or \
                (kind_ is str and len(value) > MEMO_LONGEST):  # type: ignore[arg-type]
            return check(value)
        key = (kind_, value)
        hit = seen.get(key)
        if hit is None:
            try:
                hit = (True, check(value))
            except PydanticCustomError as exc:
                hit = (False, (exc.context or {}).get("message", exc.message()))
            if len(seen) >= MEMO_SIZE:
                seen.clear()
            seen[key] = hit
        if hit[0]:
            return hit[1]
        raise fail(hit[1])
    return run


def decimal_field(limit: Limit) -> Any:
    def check(value: object) -> Decimal:
        if isinstance(value, float):
            raise fail(f"{value!r} is a binary floating-point number, which cannot hold "
                        f"every decimal exactly; write the number as text ('{value!r}')")
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise fail(f"expected a decimal number, got {kind(value)}")
        if isinstance(value, Decimal) and len(value.as_tuple().digits) > 60:
            raise fail("the number has too many digits")
        try:
            return to_decimal(value, _WHAT, limit)
        except NumberError as exc:
            raise fail(_tail(exc)) from None
    return BeforeValidator(_memo(check))


SURROGATE = re.compile("[\ud800-\udfff]")


def _text(rule: Any) -> Any:
    def check(value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise fail(f"expected text, got {kind(value)}")
        value = str(value)
        found = SURROGATE.search(value)
        if found is not None:
            raise fail(f"holds the unpaired surrogate U+{ord(found.group()):04X} at position "
                        f"{found.start() + 1}, which is no character")
        try:
            return str(rule(value, _WHAT))
        except NumberError as exc:
            raise fail(_tail(exc)) from None
    return BeforeValidator(_memo(check))


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: object) -> date:
    if isinstance(value, datetime):
        raise fail(f"expected a date, got a date and time ({value.isoformat()})")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if _DAY.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise fail(f"{text.safe(value)} is not a date (YYYY-MM-DD)")
    raise fail(f"expected a date (YYYY-MM-DD), got {kind(value)}")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise fail(f"expected true or false, got {_shown(value)}")


def _whole(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise fail(f"expected a whole number, got {_shown(value)}")


def _format(value: object) -> int:
    if (isinstance(value, int) and not isinstance(value, bool) and value == 1) \
            or value == "1":
        return 1
    raise fail(f"expected format: 1, got {_shown(value)}")


def choice(options: Iterable[str], what: str = "") -> Any:
    allowed = tuple(options)

    def check(value: object) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        head = f"unknown {what} {_shown(value)}" if what else f"{_shown(value)} is not"
        raise fail(f"{head}{'; expected' if what else ''} one of {', '.join(allowed)}")
    return BeforeValidator(_memo(check))


Quantity = Annotated[Decimal, decimal_field(LIMITS["qty"])]
Price = Annotated[Decimal, decimal_field(LIMITS["unit_price"])]
Hours = Annotated[Decimal, decimal_field(LIMITS["hours"])]
Amount = Annotated[Decimal, decimal_field(LIMITS["amount"])]
Factor = Annotated[Decimal, decimal_field(LIMITS["scrap"])]
Code = Annotated[str, _text(text.code)]
Ident = Annotated[str, _text(text.ident)]
Free = Annotated[str, _text(text.free)]
Day = Annotated[date, BeforeValidator(_memo(_day))]
Flag = Annotated[bool, BeforeValidator(_flag)]
Whole = Annotated[int, BeforeValidator(_whole)]
Format = Annotated[int, BeforeValidator(_format)]


# ---------------------------------------------------------------------------------- domain errors


def domain_issue(exc: NumberError, known: Iterable[str], rename: Mapping[str, str] = {},
                 prefix: tuple[str | int, ...] = ()) -> Issue:
    """A domain check's message (``"item SEAT: qty: must be positive"``) as an issue on the
    field it names: leading parts that name no field (the entity) are dropped."""
    names = set(known) | set(rename.values())

    def field(word: str) -> str | None:
        word = rename.get(word, word)
        return word if word in names or word.split(".")[0] in names else None

    rest = str(exc)
    while True:
        head, sep, tail = rest.partition(": ")
        if not sep:
            break
        name = field(head)
        if name is not None:
            return Issue((*prefix, name), tail)
        rest = tail
    word, sep, tail = rest.partition(" ")
    name = field(word) if sep else None
    if name is not None:
        return Issue((*prefix, name), tail)
    return Issue(prefix, rest)


_IDS = re.compile(f"(?:{IDENT_PATTERN.pattern}\n)*")


def bad_ids(ids: Sequence[Any], texts: bool = False) -> set[int]:
    """The positions of ids that are not text passing the id rule (the rule the schemas'
    id type applies), checked a whole column in one pass of the rule's own pattern
    (``texts``: all are known to be text)."""
    if texts or set(map(type, ids)) <= {str}:
        if printable_idents(ids):
            return set()
        joined = "\n".join(ids) + "\n"
        if joined.count("\n") == len(ids) and _IDS.fullmatch(joined) is not None \
                and (joined.isascii() or SURROGATE.search(joined) is None):
            return set()
    return {p for p, v in enumerate(ids)
            if type(v) is not str or IDENT_PATTERN.fullmatch(v) is None
            or SURROGATE.search(v) is not None}


# ---------------------------------------------------------------------------------- pydantic


def validated(schema: Any, data: Any) -> Any:
    """``data`` validated by a pydantic model class or TypeAdapter ``schema``; Invalid with
    every issue pydantic found, each located inside ``data`` and worded for a person."""
    from pydantic import TypeAdapter
    from pydantic import ValidationError as PydanticError

    try:
        if isinstance(schema, TypeAdapter):
            return schema.validate_python(data)
        return schema.model_validate(data)
    except PydanticError as exc:
        root = schema._type if isinstance(schema, TypeAdapter) else schema
        raise Invalid(_issues(exc, root)) from None


def _issues(exc: Any, root: Any) -> list[Issue]:
    out = []
    for err in exc.errors(include_url=False):
        raw_loc = tuple(err["loc"])
        loc = _without_tags(root, raw_loc)
        kind_, ctx = err["type"], err.get("ctx") or {}
        if loc and loc[-1] == "[key]":  # a mapping's key was refused: the key is the field
            loc = loc[:-1]
        if kind_ == "backflush":
            message = str(ctx.get("message", err["msg"]))
        elif kind_ in ("missing", "union_tag_not_found"):
            loc = loc if kind_ == "missing" else (*loc, "type")
            message = "is required"
        elif kind_ == "extra_forbidden":
            model = _model_at(root, raw_loc[:-1])
            allowed = ", ".join(model.accepted()) if model is not None else "?"
            message = f"unknown field; expected one of {allowed}"
        elif kind_ in ("model_type", "model_attributes_type", "dict_type", "list_type"):
            what = "a list" if kind_ == "list_type" else "a mapping"
            message = f"expected {what}, got {kind(err.get('input'))}"
        elif kind_ == "union_tag_invalid":
            loc = (*loc, "type")
            tags = str(ctx.get("expected_tags", "")).replace("'", "")
            message = f"unknown event type {text.safe(str(ctx.get('tag', '')))}; expected " \
                      f"one of {tags}"
        else:
            message = str(err["msg"])
        out.append(Issue(loc, message))
    return out


def _unwrap(tp: Any) -> Any:
    """``tp`` without Annotated and Optional around it."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _step(tp: Any, part: str | int) -> tuple[Any, bool]:
    """The type at ``part`` inside ``tp``, and whether ``part`` was a union's tag (the
    ``type`` of the union's member models)."""
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and hasattr(tp, "model_fields"):
        found = [f.annotation for name, f in tp.model_fields.items() if part in (name, f.alias)]
        return (found[0] if found else None), False
    if origin in (list, dict):
        return typing.get_args(tp)[-1 if origin is dict else 0], False
    if origin is Union:
        members = [m for m in typing.get_args(tp) if "type" in getattr(m, "model_fields", {})
                   and typing.get_args(m.model_fields["type"].annotation) == (part,)]
        return (members[0] if members else None), True
    return None, False


def _model_at(root: Any, loc: tuple[str | int, ...]) -> Any:
    tp = root
    for part in loc:
        tp, _ = _step(tp, part)
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and hasattr(tp, "accepted") else None


def _without_tags(root: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """pydantic puts a union's tag into the location (``events.3.receipt.qty``): drop it."""
    out: list[str | int] = []
    tp = root
    for part in loc:
        tp, tag = _step(tp, part) if tp is not None else (None, False)
        if not tag:
            out.append(part)
    return tuple(out)
