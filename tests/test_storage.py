"""The SQL ledger: lossless decimals, migrations, frozen versions, tamper detection."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import insert, inspect, select, update

from backflush.adapters.scenario_file import scenario_from_text
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.db import current_revision, head_revision, make_engine, migrate
from backflush.adapters.sql.ledger import KEPT, SqlUnitOfWork
from backflush.service_layer import reports, services
from backflush.service_layer.scenario import run_scenario

STOOL = """
format: 1
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.10, id: P1}
  - {type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.00, id: P2}
  - {type: completion, date: 2026-11-03, item: STOOL, qty: 10, id: W1}
"""

BIG = [D("1234567890123456.789012345678"), D("-0.0000000000000000000000000001"),
       D("9999999999999999999999999999"), D("0.1000000000000000000000000001")]


def test_28_digit_values_round_trip_exactly(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(t.account_balances),
                     [{"account": f"A{i}", "balance": v} for i, v in enumerate(BIG)])
    with engine.connect() as conn:
        back = dict(conn.execute(select(t.account_balances.c.account,
                                        t.account_balances.c.balance)).all())
    assert [back[f"A{i}"] for i in range(len(BIG))] == BIG
    assert all(isinstance(v, D) for v in back.values())
    with engine.begin() as conn, pytest.raises(Exception, match="expected Decimal"):
        conn.execute(insert(t.account_balances).values(account="F", balance=0.1))
    engine.dispose()


def test_migrations_upgrade_an_empty_database_and_downgrade_back(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert {"events", "journal_entries", "journal_lines", "stock_balances", "bom_versions",
            "cost_versions", "periods", "items", "routings", "work_centers"} <= \
        set(inspect(engine).get_table_names())
    migrate(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def _stock_move_indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {ix["name"] for ix in inspect(engine).get_indexes("stock_moves")}


def test_migration_0003_indexes_stock_moves_by_date_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0002")
    assert {"ix_stock_moves_item", "ix_stock_moves_event"} <= _stock_move_indexes(engine)
    migrate(engine, "0003")
    assert current_revision(engine) == "0003"
    indexes = _stock_move_indexes(engine)
    assert "ix_stock_moves_date" in indexes and "ix_stock_moves_item" not in indexes
    outcome = run_scenario(SqlUnitOfWork(engine), scenario_from_text(STOOL))
    assert outcome.ok, outcome.errors
    with SqlUnitOfWork(engine) as uow:
        before = (list(uow.ledger.moves()), dict(uow.ledger.stock()))
    migrate(engine, "0002")
    assert current_revision(engine) == "0002"
    indexes = _stock_move_indexes(engine)
    assert "ix_stock_moves_item" in indexes and "ix_stock_moves_date" not in indexes
    with SqlUnitOfWork(engine) as uow:  # the rows are untouched either way
        assert (list(uow.ledger.moves()), dict(uow.ledger.stock())) == before
    migrate(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def _ledger(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    migrate(engine)
    outcome = run_scenario(SqlUnitOfWork(engine), scenario_from_text(STOOL))
    assert outcome.ok, outcome.errors
    return engine


def test_versions_used_to_post_are_frozen(db_url: str) -> None:
    engine = _ledger(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(t.bom_versions.c.frozen)).scalar_one() is True
        assert conn.execute(select(t.cost_versions.c.frozen)).scalar_one() is True
    engine.dispose()


def test_every_event_is_kept_with_its_hash_and_explained(db_url: str) -> None:
    engine = _ledger(db_url)
    with SqlUnitOfWork(engine, read_only=True) as uow:
        found = reports.explain(uow.ledger, "W1")
        assert found is not None
        [(seq, entry)] = found.entries
        assert entry.bom == "STOOL@v1" and entry.cost_version == 1
        assert {d.item: d.qty for d in entry.derivations if d.qty < 0} == \
            {"SEAT": D(-10), "LEG": D(-30)}
        assert reports.explain(uow.ledger, f"#{seq}") is not None
        assert reports.verify(uow.ledger) == []
    engine.dispose()


def test_verify_finds_a_tampered_ledger(db_url: str) -> None:
    engine = _ledger(db_url)
    with engine.begin() as conn:
        conn.execute(update(t.stock_balances).where(t.stock_balances.c.item == "LEG")
                     .values(qty=D(271)))
        conn.execute(update(t.account_balances)
                     .where(t.account_balances.c.account == "Accounts Payable")
                     .values(balance=D(0)))
    with SqlUnitOfWork(engine, read_only=True) as uow:
        problems = reports.verify(uow.ledger)
    assert any("quantity of LEG at stores" in p for p in problems)
    assert any(p.startswith("Accounts Payable: balance kept 0.00") for p in problems)
    assert any("Raw and In-Process Inventory: GL balance" in p for p in problems)
    engine.dispose()


def test_a_failed_batch_leaves_the_database_as_it_was(db_url: str) -> None:
    from datetime import date

    from backflush.domain.errors import PostingError
    from backflush.domain.events import Completion, Receipt

    engine = _ledger(db_url)
    with engine.connect() as conn:
        before = {tbl.name: conn.execute(select(tbl)).all() for tbl in t.metadata.sorted_tables}
    good = Receipt(id="P3", date=date(2026, 11, 4), item="LEG", qty=D(5), unit_price=D(1))
    bad = Completion(id="W2", date=date(2026, 11, 4), item="SEAT", qty=D(1))
    with pytest.raises(PostingError):
        services.post_events(SqlUnitOfWork(engine), [good, bad])
    with engine.connect() as conn:
        after = {tbl.name: conn.execute(select(tbl)).all() for tbl in t.metadata.sorted_tables}
    assert after == before
    engine.dispose()


def _wide_bom(parts: int) -> str:
    """A finished item of ``parts`` purchased parts, stocked, completed twice and counted."""
    codes = [f"PART{i:03d}" for i in range(parts)]
    lines = ["format: 1", "items:"]
    lines += [f"  - {{code: {c}, standard_cost: {i % 7 + 1}.25}}" for i, c in enumerate(codes)]
    lines += ["  - {code: WIDE, conversion_cost: 3.00}", "boms:", "  WIDE:"]
    lines += [f"    - {{item: {c}, qty: {i % 3 + 1}}}" for i, c in enumerate(codes)]
    lines += ["events:"]
    lines += [f"  - {{type: receipt, date: 2026-11-02, item: {c}, qty: 500, unit_price: 1.00, "
              f"id: R{i}}}" for i, c in enumerate(codes)]
    lines += ["  - {type: completion, date: 2026-11-03, item: WIDE, qty: 7, id: W1}",
              "  - {type: completion, date: 2026-11-04, item: WIDE, qty: 5, id: W2}",
              f"  - {{type: count, date: 2026-11-05, item: {codes[0]}, qty: 400, id: C1}}"]
    return "\n".join(lines) + "\n"


def test_an_event_with_more_rows_than_one_insert_takes_is_stored_whole(db_url: str) -> None:
    # 130 components: the per-event path writes its rows in more than one INSERT.
    from backflush.adapters.memory import InMemoryUnitOfWork

    text = _wide_bom(130)
    memory = InMemoryUnitOfWork()
    assert run_scenario(memory, scenario_from_text(text)).ok
    engine = make_engine(db_url)
    migrate(engine)
    outcome = run_scenario(SqlUnitOfWork(engine), scenario_from_text(text))
    assert outcome.ok, outcome.errors
    with SqlUnitOfWork(engine) as uow:
        sql = uow.ledger
        for event_id in ("R0", "R129", "W1", "W2", "C1"):  # entries with their derivations
            assert [e.entry for e in sql.entries_of(event_id)] == \
                [e.entry for e in memory.ledger.entries_of(event_id)]
        assert list(sql.moves()) == list(memory.ledger.moves())
        assert dict(sql.stock()) == dict(memory.ledger.stock())
        assert dict(sql.balances()) == dict(memory.ledger.balances())
        assert sql.findings() and sql.findings() == memory.ledger.findings()
    engine.dispose()


def _stool_state(engine: object) -> tuple[dict[str, D], dict[tuple[str, str], D]]:
    with SqlUnitOfWork(engine, read_only=True) as uow:  # type: ignore[arg-type]
        assert reports.verify(uow.ledger) == []
        return ({k: v for k, v in uow.ledger.balances().items() if v},
                {k: v for k, v in uow.ledger.stock().items() if v})


def test_a_transaction_starts_afresh_when_anything_was_written_since_the_last(
        db_url: str) -> None:
    """On SQLite a transaction starts from the balances the connection's last committed one
    left in memory; they must be dropped whenever anything else was written meanwhile: by
    another connection, by this connection outside the ledger, or by a rolled-back posting."""
    from datetime import date

    from backflush.domain.events import Completion, Receipt

    day = date(2026, 11, 5)
    first, other = _ledger(db_url), make_engine(db_url)
    first.dispose()  # from here on, one connection: each transaction after the last on it
    services.post_events(SqlUnitOfWork(first), [Completion(id="W2", date=day, item="STOOL",
                                                            qty=D(2))])
    # Another connection receives legs; the first one's next completion must see them.
    services.post_events(SqlUnitOfWork(other), [Receipt(id="P3", date=day, item="LEG",
                                                         qty=D(7), unit_price=D(1))])
    services.post_events(SqlUnitOfWork(first), [Completion(id="W3", date=day, item="STOOL",
                                                            qty=D(1))])
    with SqlUnitOfWork(first, read_only=True) as uow:  # as stored by W3
        assert uow.ledger.on_hand("LEG", "stores") == D(300 - 30 - 6 + 7 - 3)
    # A write on the same connection, not through the ledger (as by a repair script).
    with first.begin() as conn:
        assert (KEPT in conn.connection.info) is db_url.startswith("sqlite")
        conn.execute(update(t.stock_balances).where(t.stock_balances.c.item == "SEAT")
                     .values(qty=D(50)))
    with SqlUnitOfWork(first) as uow:
        assert uow.ledger.on_hand("SEAT", "stores") == D(50)
    with first.begin() as conn:
        conn.execute(update(t.stock_balances).where(t.stock_balances.c.item == "SEAT")
                     .values(qty=D(100 - 10 - 2 - 1)))
    # A posting rolled back: what it did in memory must not outlive it.
    uow = SqlUnitOfWork(first)
    with uow:
        services.post_one(uow.ledger, Completion(id="W4", date=day, item="STOOL", qty=D(5)))
        assert uow.ledger.on_hand("LEG", "stores") == D(268 - 15)
    services.post_events(SqlUnitOfWork(first), [Completion(id="W5", date=day, item="STOOL",
                                                            qty=D(1))])
    balances, stock = _stool_state(first)
    assert stock[("LEG", "stores")] == D(268 - 3) and stock[("SEAT", "stores")] == D(86)

    # The same events posted in one go on a fresh ledger give the same books.
    reference = make_engine(db_url.replace("ledger.db", "reference.db")) \
        if db_url.startswith("sqlite") else None
    if reference is not None:
        migrate(reference)
        assert run_scenario(SqlUnitOfWork(reference), scenario_from_text(STOOL)).ok
        services.post_events(SqlUnitOfWork(reference), [
            Completion(id="W2", date=day, item="STOOL", qty=D(2)),
            Receipt(id="P3", date=day, item="LEG", qty=D(7), unit_price=D(1)),
            Completion(id="W3", date=day, item="STOOL", qty=D(1)),
            Completion(id="W5", date=day, item="STOOL", qty=D(1))])
        assert _stool_state(reference) == (balances, stock)
        reference.dispose()
    first.dispose()
    other.dispose()
