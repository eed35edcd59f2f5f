"""The bulk path: many events, lines and moves at once, exactly as one at a time would
have written them."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from backflush.adapters.sql import SqlLedger
from backflush.adapters.sql.bulk import COPY_FROM
from backflush.domain.events import Completion, Receipt, Sale
from backflush.domain.journal import JournalEntry, JournalLine, StockMove
from backflush.domain.numbers import ZERO
from backflush.service_layer.ports import EventRows, IdsTaken
from tests.integration.sql.contract import summary

D = Decimal
DAY = date(2026, 11, 2)
TEMPLATES = [
    Completion(id="#", date=DAY + timedelta(days=n % 5), item=f"F{n % 7}", qty=D(1 + n % 3))
    for n in range(20)
] + [Receipt(id="#", date=DAY, item="BOLT", qty=D("0.5"), unit_price=D("0.10"),
             supplier="Nuts \\ Bolts, \"Ltd\" – ø"),
     Sale(id="#", date=DAY, item="F1", qty=D(2), customer="back\\slash\\\\")]


def rows(count: int, prefix: str = "WO") -> EventRows:
    ids = [f"{prefix}-{n:07d}" for n in range(count)]
    ids[1] = f"{prefix}\\back\\slash"  # (COPY's escape character, in an id)
    ids[2] = f"{prefix}-ünï-çødé"
    index = [(n * 7) % len(TEMPLATES) for n in range(count)]
    entries = [n % 3 for n in range(len(TEMPLATES))]
    return EventRows(ids, index, TEMPLATES, entries)


def test_many_events_come_back_as_their_templates(sql_ledger: SqlLedger) -> None:
    batch = rows(20_000)
    with sql_ledger.unit_of_work() as uow:
        uow.events.append(Receipt(id="FIRST", date=DAY, item="BOLT", qty=D(1),
                                  unit_price=D(1)), 1)
        uow.events.append_many(batch, 3)
        assert uow.events.count() == 20_001
        uow.commit()
    with sql_ledger.unit_of_work(read_only=True) as uow:
        stored = list(uow.events.all())
        assert [s.seq for s in stored] == list(range(1, 20_002))
        for s, event_id, t in zip(stored[1:], batch.ids, batch.index, strict=True):
            template = TEMPLATES[t]
            assert s.event.id == event_id
            assert s.event == dataclasses.replace(template, id=event_id)
            assert (s.cost_version, s.summary, s.reversed_by) == (3, batch.entries[t], None)
        found = uow.events.find([batch.ids[1], batch.ids[2], "nope", batch.ids[-1]])
        assert list(found) == [batch.ids[1], batch.ids[2], batch.ids[-1]]
        assert uow.events.get(batch.ids[1]) == stored[2]


def test_ids_taken_in_bulk_write_nothing(sql_ledger: SqlLedger) -> None:
    with sql_ledger.unit_of_work() as uow:
        uow.events.append_many(rows(3000), 1)
        uow.commit()
    clash = rows(5000)  # the first 3000 ids were posted
    renamed = EventRows([f"N{i}" if n >= 10 else i for n, i in enumerate(clash.ids)],
                        clash.index, clash.templates, clash.entries)
    with sql_ledger.unit_of_work() as uow:
        with pytest.raises(IdsTaken) as caught:
            uow.events.append_many(renamed, 1)
        assert caught.value.args[0] == list(renamed.ids[:10])
        assert uow.events.count() == 3000
        uow.events.append_many(EventRows(["AFTER"], [0], TEMPLATES, [0] * len(TEMPLATES)), 1)
        uow.commit()
    with sql_ledger.unit_of_work() as uow:
        assert uow.events.get("AFTER").seq == 3001  # type: ignore[union-attr]
        assert uow.events.find(["N10", "N4999"]) == {}


def test_summary_entries_and_moves_in_bulk(sql_ledger: SqlLedger) -> None:
    entries = [summary(DAY + timedelta(days=n), D(n) + D("0.125")) for n in range(8)]
    big = JournalEntry("summary big", DAY, "summary", "many lines", tuple(
        JournalLine(f"Account {n % 50}", D(n) / 1000, ZERO) if n % 2 else
        JournalLine(f"Account {n % 50}", ZERO, D(n - 1) / 1000)
        for n in range(1, 2 * COPY_FROM + 1)))
    moves = [StockMove(f"P{n % 900:03d}", f"L{n % 3}", D(n % 17) - D("8.5"), "backflush",
                       f"F{n % 7}") for n in range(5000)]
    with sql_ledger.unit_of_work() as uow:
        seqs = uow.journal.append(None, [*entries, big])
        assert seqs == list(range(1, 10))
        uow.stock.apply(None, DAY, moves)
        kept = dict(uow.journal.balances()), dict(uow.stock.balances())
        uow.commit()
    with sql_ledger.unit_of_work() as uow:
        assert [s.entry for s in uow.journal.entries()] == [
            JournalEntry(e.event_id, e.date, e.type, e.description, e.lines, (), e.cost_version,
                         e.bom, e.cogs_material, e.cogs_conversion) for e in [*entries, big]]
        assert uow.journal.entry(3).entry == entries[2]  # type: ignore[union-attr]
        assert uow.journal.entries_of("summary 2026-11-02") == []  # (summaries: by number)
        assert list(uow.stock.moves()) == moves
        assert (dict(uow.journal.balances()), dict(uow.stock.balances())) == kept
        place: dict[tuple[str, str], Decimal] = {}
        for m in moves:
            place[(m.item, m.location)] = place.get((m.item, m.location), ZERO) + m.qty
        assert kept[1] == place
        by_parent: dict[str, Decimal] = {}
        for m in moves:
            if m.item == "P001":
                by_parent[m.parent] = by_parent.get(m.parent, ZERO) - m.qty
        assert uow.stock.backflushed("P001", DAY, DAY) == {k: v for k, v in by_parent.items()
                                                          if v}
