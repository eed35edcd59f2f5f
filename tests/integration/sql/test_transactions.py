"""Transactions: all or nothing, savepoints, ids taken, two writers at once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backflush.adapters.sql import SqlLedger
from backflush.domain.errors import ConcurrencyError, StorageError
from backflush.domain.events import Receipt
from backflush.domain.journal import StockMove
from backflush.service_layer.ports import EventRows, IdsTaken
from backflush.service_layer.unit_of_work import UnitOfWork, with_retries
from tests.integration.sql.contract import EVENTS, TEMPLATES, post_event, set_up

D = Decimal
DAY = date(2026, 11, 3)


def receipt(event_id: str) -> Receipt:
    return Receipt(id=event_id, date=DAY, item="SEAT", qty=D(1), unit_price=D("5.00"))


def post_receipt(uow: UnitOfWork, event_id: str) -> int:
    """A receipt of one SEAT: its event, entry and move."""
    event = receipt(event_id)
    seq = post_event(uow, event)
    uow.stock.apply(seq, event.date, [StockMove("SEAT", "stores", D(1), "receipt")])
    return seq


def set_up_and_post(ledger: SqlLedger, count: int = 3) -> None:
    with ledger.unit_of_work() as uow:
        set_up(uow)
        for event in EVENTS[:count]:
            post_event(uow, event)
        uow.commit()


def counts(ledger: SqlLedger) -> tuple[int, int, int, dict[str, Decimal]]:
    with ledger.unit_of_work(read_only=True) as uow:
        return (uow.events.count(), len(list(uow.journal.entries())), len(list(uow.stock.moves())),
                dict(uow.journal.balances()))


def test_an_exception_rolls_everything_back(sql_ledger: SqlLedger) -> None:
    with pytest.raises(RuntimeError), sql_ledger.unit_of_work() as uow:
        set_up(uow)
        post_event(uow, EVENTS[1])
        raise RuntimeError("the use case failed")
    with sql_ledger.unit_of_work() as uow:
        assert not uow.master.ready()
    assert counts(sql_ledger) == (0, 0, 0, {})


def test_leaving_without_commit_keeps_nothing(sql_ledger: SqlLedger) -> None:
    set_up_and_post(sql_ledger)
    before = counts(sql_ledger)
    with sql_ledger.unit_of_work() as uow:
        post_receipt(uow, "PO-LOST")
    assert counts(sql_ledger) == before


def test_a_savepoint_undoes_its_block(sql_ledger: SqlLedger) -> None:
    set_up_and_post(sql_ledger)
    before = counts(sql_ledger)
    with sql_ledger.unit_of_work() as uow:
        on_hand = uow.stock.on_hand("SEAT", "stores")
        with pytest.raises(RuntimeError), uow.savepoint():
            post_receipt(uow, "PO-SP")
            assert uow.stock.on_hand("SEAT", "stores") == on_hand + 1
            raise RuntimeError
        # What the stores keep in memory is undone with the database's rows.
        assert uow.stock.on_hand("SEAT", "stores") == on_hand
        assert uow.events.get("PO-SP") is None
        assert (uow.events.count(), dict(uow.journal.balances())) == (before[0], before[3])
        seq = post_receipt(uow, "PO-AFTER")
        assert seq == before[0] + 1  # numbers stay dense
        with uow.savepoint():  # a block that ends well is kept
            post_receipt(uow, "PO-KEPT")
        uow.commit()
    assert counts(sql_ledger)[0] == before[0] + 2


def test_ids_taken_write_nothing_and_the_transaction_goes_on(sql_ledger: SqlLedger) -> None:
    set_up_and_post(sql_ledger)
    before = counts(sql_ledger)
    with sql_ledger.unit_of_work() as uow:
        rows = EventRows(["NEW-1", "PO-1", "NEW-2", "OPEN-1"], [0, 1, 0, 1], TEMPLATES[:2], [0, 0])
        with pytest.raises(IdsTaken) as caught, uow.savepoint():
            uow.events.append_many(rows, 1)
        assert caught.value.args == (["PO-1", "OPEN-1"],)
        # Even without the caller's savepoint, nothing of the rows is left.
        with pytest.raises(IdsTaken):
            uow.events.append_many(rows, 1)
        with pytest.raises(IdsTaken) as caught:
            uow.events.append_many(EventRows(["NEW-3", "NEW-3"], [0, 0], TEMPLATES[:1], [0]), 1)
        assert caught.value.args == ([],)
        with pytest.raises(IdsTaken):
            uow.events.append(EVENTS[0], 1)
        assert uow.events.find(["NEW-1", "NEW-2", "NEW-3"]) == {}
        assert uow.events.count() == before[0]
        uow.events.append_many(EventRows(["NEW-1", "NEW-2"], [0, 0], TEMPLATES[:1], [0]), 1)
        uow.commit()
    with sql_ledger.unit_of_work() as uow:
        assert [uow.events.get(i).seq for i in ("NEW-1", "NEW-2")] == [before[0] + 1,  # type: ignore[union-attr]
                                                                      before[0] + 2]


def test_two_sqlite_writers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    first = SqlLedger.create(url)
    second = SqlLedger.open(url, busy_timeout=0.05)
    try:
        set_up_and_post(first)
        holder = first.unit_of_work()
        with holder:  # holds the write lock (BEGIN IMMEDIATE) until it ends
            post_receipt(holder, "PO-A")
            with pytest.raises(ConcurrencyError) as caught, second.unit_of_work():
                pass
            assert "busy" in str(caught.value)
            with second.unit_of_work(read_only=True) as reader:  # readers are not blocked
                assert reader.events.get("PO-1") is not None
                assert reader.events.get("PO-A") is None
            holder.commit()

        def post() -> None:
            with second.unit_of_work() as uow:
                post_receipt(uow, "PO-B")
                uow.commit()

        with_retries(post)
        assert counts(first)[0] == 5
    finally:
        first.close()
        second.close()


def test_postgresql_serialization_failure(pg_ledger: SqlLedger) -> None:
    """Write skew: each reads all stock, then moves an item the other read. One of them is
    refused with ConcurrencyError, and runs again."""
    set_up_and_post(pg_ledger)
    one, two = pg_ledger.unit_of_work(), pg_ledger.unit_of_work()
    failures = []
    with one, two:
        for uow, item in ((one, "SEAT"), (two, "LEG")):
            uow.stock.balances()
            uow.stock.apply(None, DAY, [StockMove(item, "stores", D(1), "receipt")])
        for uow in (one, two):
            try:
                uow.commit()
            except ConcurrencyError as exc:
                failures.append(str(exc))
    assert len(failures) == 1 and "running again is safe" in failures[0]


def test_postgresql_concurrent_posters(pg_ledger: SqlLedger) -> None:
    """Threads posting at once, each on its own connection, retried on conflicts: every
    event posted once, numbers dense."""
    set_up_and_post(pg_ledger, 1)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        for k in range(5):
            def post(event_id: str = f"T{n}-{k}") -> None:
                with pg_ledger.unit_of_work() as uow:
                    post_receipt(uow, event_id)
                    uow.commit()
            try:
                with_retries(post)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pg_ledger.unit_of_work() as uow:
        stored = list(uow.events.all())
    assert [s.seq for s in stored] == list(range(1, 22))
    assert len({s.event.id for s in stored}) == 21


def test_a_read_only_unit_of_work_cannot_write(sql_ledger: SqlLedger) -> None:
    set_up_and_post(sql_ledger)
    with pytest.raises(StorageError) as caught, sql_ledger.unit_of_work(read_only=True) as uow:
        post_receipt(uow, "PO-RO")
    assert "read-only" in str(caught.value)
    with sql_ledger.unit_of_work() as uow:  # the connection went back to the pool sound
        post_receipt(uow, "PO-RW")
        uow.commit()
