"""The rules for text the ledger keeps: codes, ids and free text.

A code (item, location, work center, account) or an event id is what an auditor searches for
and a terminal prints, so it is kept to one visible line: no control characters (which could
rewrite a terminal or a log line), no bidirectional overrides (which could make a code read
as another), no leading or trailing blanks, and a bounded length. Free text (descriptions,
reasons, suppliers) may hold spaces, but no control characters either.

:data:`IDENT_PATTERN` is the id rule as one regular expression, so that a bulk reader can
check a whole column of ids in one pass by the very same rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from backflush.domain.errors import NumberError

CODE_MAX = 100
IDENT_MAX = 200
TEXT_MAX = 500

# Control characters (C0, DEL, C1), line and paragraph separators, bidirectional controls,
# and lone surrogates (which no UTF-8 file or database can hold).
_FORBIDDEN = ("\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
              "\ud800-\udfff")
_BAD = re.compile(f"[{_FORBIDDEN}]")
_VISIBLE = f"[^{_FORBIDDEN}\\s]"
_INNER = f"[^{_FORBIDDEN}]"


def _pattern(longest: int) -> str:
    """One visible first and last character, anything allowed between, ``longest`` in all."""
    return f"(?:{_VISIBLE}(?:{_INNER}{{0,{longest - 2}}}{_VISIBLE})?)"


CODE_PATTERN = re.compile(_pattern(CODE_MAX))
IDENT_PATTERN = re.compile(_pattern(IDENT_MAX))


class TextError(NumberError):
    """Text that the ledger cannot keep as it is (a subclass of NumberError: a bad value)."""


def _describe(value: str, longest: int) -> str:
    if not value:
        return "is empty"
    if not value.strip():
        return "is only blanks"
    if len(value) > longest:
        return f"is {len(value):,} characters long; at most {longest} are allowed"
    found = _BAD.search(value)
    if found is not None:
        return f"holds the control character U+{ord(found.group()):04X} at position " \
               f"{found.start() + 1}"
    return "has blanks at its start or end"


def check(value: object, what: str, pattern: re.Pattern[str], longest: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TextError(f"{what}: expected text, got {type(value).__name__}", what)
    text = str(value)
    if pattern.fullmatch(text) is None:
        raise TextError(f"{what}: {safe(text)} {_describe(text, longest)}", what)
    return text


def code(value: object, what: str) -> str:
    """An item, location, work-center or account code."""
    return check(value, what, CODE_PATTERN, CODE_MAX)


def ident(value: object, what: str = "id") -> str:
    """An event id (the idempotency key)."""
    return check(value, what, IDENT_PATTERN, IDENT_MAX)


_PRINTABLE = bytes(range(0x20, 0x7F))  # printable ASCII: no character of it is forbidden


def printable_idents(ids: Sequence[str]) -> bool:
    """Whether all of ``ids`` (texts) are printable ASCII passing the id rule: for ids of
    printable ASCII the rule is a length of 1 to IDENT_MAX and no blank at either end (no
    character of them is forbidden, and the space is their only blank). A column checked in
    a few passes in C; False says only that some id needs :func:`ident`'s own check."""
    if not ids or min(map(len, ids)) < 1 or max(map(len, ids)) > IDENT_MAX:
        return False
    joined = "\n".join(ids)
    if not joined.isascii():
        return False
    raw = joined.encode("ascii")
    others = raw.translate(None, _PRINTABLE)  # what is not printable: the separators only
    return (others == b"\n" * (len(ids) - 1) and b" \n" not in raw and b"\n " not in raw
            and not raw.startswith(b" ") and not raw.endswith(b" "))


def free(value: object, what: str, longest: int = TEXT_MAX) -> str:
    """Free text: a description, a reason, a supplier's or customer's name."""
    if not isinstance(value, str):
        raise TextError(f"{what}: expected text, got {type(value).__name__}", what)
    if len(value) > longest:
        raise TextError(f"{what}: is {len(value):,} characters long; at most {longest} "
                        "are allowed", what)
    found = _BAD.search(value)
    if found is not None:
        raise TextError(f"{what}: holds the control character U+{ord(found.group()):04X} at "
                        f"position {found.start() + 1}", what)
    return value


def safe(value: str, longest: int = 60) -> str:
    """``value`` as it may be shown in a message: control characters escaped, cut short."""
    shown = _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if len(shown) > longest:
        shown = shown[:longest - 3] + "..."
    return repr(shown)
