"""What is kept in memory: master data, policy and costs between transactions (keyed by the
ledger's revision), stock and balances within one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from backflush.adapters.sql import SqlLedger
from backflush.domain.journal import StockMove
from backflush.domain.rollup import roll_up
from tests.integration.sql.contract import EVENTS, OPENED, master_data, post_event, set_up

D = Decimal


@contextmanager
def statements(ledger: SqlLedger) -> Iterator[list[str]]:
    """The statements SQLAlchemy sends while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(ledger.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(ledger.engine, "before_cursor_execute", note)


def read_standing(ledger: SqlLedger) -> tuple[Any, Any, Any]:
    with ledger.unit_of_work() as uow:
        return uow.master.master(), uow.master.policy(), uow.master.costs()


def prepared(ledger: SqlLedger) -> None:
    with ledger.unit_of_work() as uow:
        set_up(uow)
        for e in EVENTS[:3]:
            post_event(uow, e)
        uow.commit()


def test_master_data_is_read_once(sql_ledger: SqlLedger) -> None:
    prepared(sql_ledger)
    other = SqlLedger(sql_ledger.engine)  # a cold cache: reads the tables
    with statements(other) as seen:
        first = read_standing(other)
    assert any("FROM items" in s for s in seen)
    with statements(other) as seen:
        again = read_standing(other)
    assert again == first
    reads = [s for s in seen if s.startswith("SELECT")]
    assert len(reads) == 1 and "FROM settings" in reads[0]  # only the revision, checked


def test_a_change_elsewhere_is_seen(sql_ledger: SqlLedger) -> None:
    prepared(sql_ledger)
    read_standing(sql_ledger)
    other = SqlLedger(sql_ledger.engine)  # another process, as far as the cache knows
    changed = master_data().with_item(
        dataclasses.replace(master_data().items["BOLT"], standard_cost=D("0.07")))
    with other.unit_of_work() as uow:
        uow.master.replace_master(changed, roll_up(changed, OPENED))
        uow.commit()
    master, _, costs = read_standing(sql_ledger)
    assert master == changed and costs["BOLT"].unit_cost == D("0.07")


def test_uncommitted_changes_are_never_shared(sql_ledger: SqlLedger) -> None:
    prepared(sql_ledger)
    before = read_standing(sql_ledger)
    changed = master_data().with_item(
        dataclasses.replace(master_data().items["BOLT"], standard_cost=D("0.09")))
    with sql_ledger.unit_of_work() as uow:  # rolled back
        uow.master.replace_master(changed, roll_up(changed, OPENED))
        assert uow.master.master() == changed
    assert read_standing(sql_ledger) == before
    with sql_ledger.unit_of_work() as uow:
        try:
            with uow.savepoint():
                uow.master.replace_master(changed, roll_up(changed, OPENED))
                raise RuntimeError
        except RuntimeError:
            pass
        assert uow.master.master() == before[0]
        uow.commit()
    assert read_standing(sql_ledger) == before
    with sql_ledger.unit_of_work() as uow:  # committed: shared from then on
        uow.master.replace_master(changed, roll_up(changed, OPENED))
        uow.commit()
    with statements(sql_ledger) as seen:
        assert read_standing(sql_ledger)[0] == changed
    assert not any("FROM items" in s for s in seen)


def test_stock_and_balances_kept_in_the_transaction(sql_ledger: SqlLedger) -> None:
    prepared(sql_ledger)
    with sql_ledger.unit_of_work() as uow:
        with statements(sql_ledger) as seen:
            uow.stock.prefetch(["SEAT", "LEG", "BOLT", "NOTHING"])
        assert len(seen) == 1  # one query for every item
        with statements(sql_ledger) as seen:
            before = {i: uow.stock.on_hand_total(i) for i in ("SEAT", "LEG", "BOLT", "NOTHING")}
            uow.stock.on_hand("SEAT", "stores")
            uow.stock.on_hand("NOTHING", "stores")
            uow.journal.balance("Accounts Payable")
            uow.journal.balance("Raw and In-Process Inventory")
        assert len(seen) == 1 and "account_balances" in seen[0]  # balances: read once
        uow.stock.apply(1, OPENED, [StockMove("SEAT", "stores", D("2.5"), "receipt")])
        with statements(sql_ledger) as seen:
            assert uow.stock.on_hand_total("SEAT") == before["SEAT"] + D("2.5")
            uow.journal.balance("Accounts Payable")
        assert seen == []
