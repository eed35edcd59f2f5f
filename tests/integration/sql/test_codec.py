"""Decimals exactly, on both backends; events and the policy as JSON with decimals as
strings."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from backflush.adapters.sql import SqlLedger
from backflush.adapters.sql.codec import (
    ExactDecimal,
    decimal_text,
    event_columns,
    event_from_columns,
    policy_from_json,
    policy_to_json,
)
from backflush.domain.events import EVENT_TYPES, Close, Issue, RateChange, Reopen, Scrap, Signal
from backflush.domain.journal import JournalEntry, JournalLine, StockMove
from backflush.domain.numbers import ZERO
from backflush.domain.numbers import total as exact_total
from tests.integration.sql.contract import BIG, EVENTS, POLICY, TEMPLATES, TINY

D = Decimal
VALUES = [BIG, -BIG, TINY, -TINY, D("1.50"), D("0"), D("-0.000001"), D("0.10"),
          D("123456789012345678901234567890.123456789012345678901234567890"), D("7")]
DAY = date(2026, 11, 3)


def test_exact_decimal_round_trip(sql_ledger: SqlLedger) -> None:
    """A Decimal in, the same Decimal out: every digit, trailing zeros too."""
    table = Table("decimal_round_trip", MetaData(), Column("n", Integer, primary_key=True),
                  Column("value", ExactDecimal, nullable=True))
    engine = sql_ledger.engine
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table), [{"n": n, "value": v}
                                         for n, v in enumerate([*VALUES, None])])
            back = [v for _, v in conn.execute(select(table).order_by(table.c.n))]
        assert back[-1] is None
        for sent, got in zip(VALUES, back, strict=False):
            assert type(got) is Decimal
            assert got == sent and format(got, "f") == format(sent, "f")
    finally:
        table.drop(engine)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_the_canonical_text_is_format_f(value: Decimal) -> None:
    """The codec's text (a fast path through ``str``) is ``format(d, "f")``, exactly."""
    assert decimal_text(value) == format(value, "f")
    assert Decimal(decimal_text(value)) == value


def test_exact_decimal_refuses_floats(sql_ledger: SqlLedger) -> None:
    table = Table("decimal_floats", MetaData(), Column("n", Integer, primary_key=True),
                  Column("value", ExactDecimal))
    table.create(sql_ledger.engine)
    try:
        with sql_ledger.engine.begin() as conn, pytest.raises(StatementError) as caught:
            conn.execute(insert(table), {"n": 1, "value": 0.1})
        assert isinstance(caught.value.orig, TypeError)
        assert "float" in str(caught.value.orig)
    finally:
        table.drop(sql_ledger.engine)
    with pytest.raises(TypeError):
        decimal_text(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        decimal_text(D("NaN"))


def test_decimals_through_the_ports(sql_ledger: SqlLedger) -> None:
    """Balances, moves and sums keep every digit on both backends."""
    big_entry = JournalEntry("X-1", DAY, "receipt", "big", (
        JournalLine("Cash", BIG, ZERO), JournalLine("Cash", TINY, ZERO),
        JournalLine("Equity", ZERO, BIG + TINY)), cogs_material=BIG, cogs_conversion=TINY)
    with sql_ledger.unit_of_work() as uow:
        seq = uow.events.append(EVENTS[1], 1)
        uow.journal.append(seq, [big_entry])
        uow.stock.apply(seq, DAY, [StockMove("SEAT", "stores", v, "receipt") for v in VALUES])
        uow.commit()
    with sql_ledger.unit_of_work() as uow:
        assert uow.journal.balance("Cash") == BIG + TINY
        assert format(uow.journal.balance("Cash", DAY), "f") == format(BIG + TINY, "f")
        assert uow.journal.balance("Equity", DAY) == -(BIG + TINY)
        assert uow.journal.cogs_content(DAY, DAY) == (BIG, TINY)
        assert [format(m.qty, "f") for m in uow.stock.moves()] == [format(v, "f")
                                                                  for v in VALUES]
        total = exact_total(VALUES)  # (the default context would round: 28 digits)
        assert uow.stock.on_hand("SEAT", "stores") == total
        assert uow.stock.totals(DAY) == {"SEAT": total}
        assert uow.stock.totals() == {"SEAT": total}
        assert uow.journal.entry(1).entry == big_entry  # type: ignore[union-attr]
    with sql_ledger.unit_of_work() as uow, pytest.raises(TypeError):
        uow.stock.apply(seq, DAY, [StockMove("SEAT", "stores", 1.5, "receipt")])  # type: ignore[arg-type]


# Events the contract does not post, stored all the same.
ALSO = (Reopen(id="reopen-2026-11", date=date(2026, 12, 1), period="2026-11",
               reason="late invoice \\ re-costed", by="Ana"),
        Close(id="close-2026-11-2", date=date(2026, 11, 30), period="2026-11", force=True,
              gaap_bridge=True, nrv=(("STOOL", Decimal("12.5")), ("SEAT", Decimal("0")))),
        RateChange(id="RC-1", date=date(2026, 11, 27), work_center="ASSY",
                   labor_rate=Decimal("22.125"), rate=Decimal("0.0000000001")),
        Scrap(id="SC-9", date=date(2026, 11, 27), item="SEAT", qty=Decimal("1"),
              abnormal=True),
        Signal(id="KB-1", date=date(2026, 11, 27), item="SEAT", location="line-1",
               qty=Decimal("25.5")),
        Issue(id="IS-1", date=date(2026, 11, 27), item="SEAT", qty=Decimal("2"),
              parent="STOOL", location="line-1", order="WO-7"))


def test_every_event_type_round_trips() -> None:
    seen = set()
    for event in (*EVENTS, *TEMPLATES, *ALSO):
        kind, when, item, qty, payload = event_columns(event)
        back = event_from_columns(kind, event.id, when, item, qty, payload)
        assert back == event and repr(back) == repr(event)
        if payload is not None:
            assert "float" not in json.dumps(json.loads(payload))
            for value in json.loads(payload).values():
                assert not isinstance(value, float)
        seen.add(kind)
    assert seen == set(EVENT_TYPES)


def test_fields_at_their_defaults_are_not_stored() -> None:
    plain = TEMPLATES[0]
    assert event_columns(plain)[4] is None
    changed = EVENTS[3]  # scrap, hours, an order
    payload = json.loads(event_columns(changed)[4] or "{}")
    assert payload == {"hours": [["ASSY", "2.5"], ["PAINT", "1.25"]], "order": "ORD-1",
                       "scrap_qty": "1.50"}
    assert {f.name for f in fields(changed)} >= set(payload)


def test_policy_round_trips() -> None:
    text = policy_to_json(POLICY)
    assert policy_from_json(text) == POLICY
    assert json.loads(text)["count_tolerance"] == "0.050"
