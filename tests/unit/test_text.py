"""The text rules: codes, ids, free text; and the column check of ids that bulk readers use
is the very id rule (never a second, looser one)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backflush.adapters.files.limits import bad_ids
from backflush.domain.errors import NumberError
from backflush.domain.text import IDENT_MAX, code, free, ident, printable_idents


def passes(value: str) -> bool:
    try:
        ident(value)
    except NumberError:
        return False
    return True


@pytest.mark.parametrize("value, message", [
    ("", "is empty"),
    ("   ", "is only blanks"),
    (" A1", "has blanks at its start or end"),
    ("A1\t", "holds the control character U+0009"),
    ("A\u202eB", "holds the control character U+202E"),
    ("A" * (IDENT_MAX + 1), f"at most {IDENT_MAX} are allowed"),
])
def test_bad_ids_are_refused_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(NumberError, match=re.escape(message)):
        ident(value)


def test_codes_and_free_text() -> None:
    assert code("FG-01", "item") == "FG-01"
    assert free("a supplier, Ltd.", "supplier") == "a supplier, Ltd."
    with pytest.raises(NumberError, match="expected text"):
        code(None, "item")
    with pytest.raises(NumberError, match="control character"):
        free("two\nlines", "reason")


ascii_ids = st.text(st.characters(min_codepoint=0x1F, max_codepoint=0x7F), max_size=IDENT_MAX + 2)
any_ids = st.text(max_size=12)


@given(st.lists(ascii_ids, max_size=6))
def test_the_column_check_is_the_id_rule_on_ascii(ids: list[str]) -> None:
    # True exactly when every id passes (for printable ASCII ids), never for a bad one
    if printable_idents(ids):
        assert all(map(passes, ids))
    elif ids and all(map(passes, ids)):
        assert not all(c.isascii() and c.isprintable() for i in ids for c in i)


@given(st.lists(st.one_of(ascii_ids, any_ids), max_size=6))
def test_bad_ids_finds_exactly_the_ids_the_rule_refuses(ids: list[str]) -> None:
    assert bad_ids(ids) == {p for p, v in enumerate(ids) if not passes(v)}
    assert bad_ids(ids, texts=True) == {p for p, v in enumerate(ids) if not passes(v)}


def test_bad_ids_of_values_that_are_not_text() -> None:
    assert bad_ids(["E1", 5, None, "E2"]) == {1, 2}
