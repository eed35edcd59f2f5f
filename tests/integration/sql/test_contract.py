"""Every port method against the memory adapter's behaviour: the same sequence of writes
through the unit of work on each backend, then the same reads, compared."""

from __future__ import annotations

from typing import Any

import pytest

from backflush.adapters.memory import MemoryLedger, MemoryUnitOfWork
from backflush.service_layer.unit_of_work import UnitOfWork
from tests.integration.sql.contract import STEPS, Store, snapshot


def run_steps(make: Any, *, last_read: bool = False) -> dict[str, Any] | None:
    """Play :data:`STEPS`, each in a unit of work of its own (committed or not); with
    ``last_read`` also read everything inside the last one, before its commit."""
    inside = None
    for n, (_name, step, commit) in enumerate(STEPS):
        uow: UnitOfWork = make()
        with uow:
            step(uow)
            if last_read and n == len(STEPS) - 1:
                inside = snapshot(uow)
            if commit:
                uow.commit()
    return inside


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    """What the memory adapter reads after the steps."""
    state = MemoryLedger()
    run_steps(lambda: MemoryUnitOfWork(state))
    uow = MemoryUnitOfWork(state)
    with uow:
        return snapshot(uow)


def _compare(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], f"{key} differs from the memory adapter's"


def test_every_read_matches_memory(store: Store, reference: dict[str, Any]) -> None:
    inside = run_steps(store.uow, last_read=True)
    assert inside is not None
    _compare(inside, reference)  # in the writing transaction, from what it keeps
    uow = store.uow()
    with uow:
        _compare(snapshot(uow), reference)  # in a new one, from the database


def test_reads_in_a_read_only_unit_of_work(sql_ledger: Any, reference: dict[str, Any]) -> None:
    run_steps(sql_ledger.unit_of_work)
    uow = sql_ledger.unit_of_work(read_only=True)
    with uow:
        _compare(snapshot(uow), reference)


def test_reads_from_a_cold_cache(sql_ledger: Any, reference: dict[str, Any]) -> None:
    """Another ledger object on the same database (another process): nothing cached."""
    from backflush.adapters.sql import SqlLedger

    run_steps(sql_ledger.unit_of_work)
    other = SqlLedger(sql_ledger.engine)
    uow = other.unit_of_work()
    with uow:
        _compare(snapshot(uow), reference)


def test_unknown_cost_version(store: Store) -> None:
    run_steps(store.uow)
    uow = store.uow()
    with uow, pytest.raises(KeyError):
        uow.master.cost_version(99)
