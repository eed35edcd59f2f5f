"""Concurrency: four processes post completions against the same components (PostgreSQL,
SQLite); a serialization failure is retried."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.scenario_file import load_scenario
from backflush.adapters.sql.db import make_engine
from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.adapters.tabular import read_events
from backflush.entrypoints.cli import app
from backflush.service_layer import reports, services
from backflush.service_layer.scenario import run_scenario
from tests.conftest import PG_URL, truncate_all

ROOT = Path(__file__).resolve().parents[1]
WORKERS, EACH = 4, 40


def _files(tmp_path: Path, each: int = EACH) -> list[Path]:
    files = []
    for w in range(WORKERS):
        path = tmp_path / f"worker{w}.jsonl"
        with path.open("w") as fh:
            for i in range(each):
                fh.write(json.dumps({"type": "completion", "id": f"W{w}-{i}",
                                     "date": "2026-12-03", "item": "STOOL",
                                     "qty": str(1 + (i + w) % 3),
                                     "scrap_qty": "1" if i % 10 == 0 else "0"}) + "\n")
        files.append(path)
    return files


@pytest.mark.parametrize(("kind", "journal", "batch"), [
    ("postgresql", "per_event", "1"), ("postgresql", "summary", "7"),
    # SQLite: each connection starts a transaction from what its last one left in memory
    # unless another wrote meanwhile; four writers take turns, so every turn must see that.
    ("sqlite", "per_event", "1")])
def test_four_processes_post_completions_at_once_with_no_lost_update(
        request: pytest.FixtureRequest, tmp_path: Path, kind: str, journal: str,
        batch: str) -> None:
    if kind == "postgresql":
        truncate_all(request.getfixturevalue("pg_engine"))
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    stool = ROOT / "examples" / "stool.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["post", str(stool), "--db", url]).exit_code == 2  # no ledger
    assert runner.invoke(app, ["init", "--db", url, "--from", str(stool),
                               "--journal", journal]).exit_code == 0
    assert runner.invoke(app, ["post", str(stool), "--db", url]).exit_code == 0
    # SQLite commits far faster: more events each, so that the four really overlap.
    each = EACH * 10 if kind == "sqlite" else EACH
    files = _files(tmp_path, each)
    children = [subprocess.Popen([sys.executable, "-m", "backflush", "post", str(f), "--db",
                                  url, "--batch-size", batch],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for f in files]
    outputs = [c.communicate(timeout=600)[0] for c in children]
    assert [c.returncode for c in children] == [0] * WORKERS, outputs
    assert all(f"Posted {each} events" in out for out in outputs), outputs

    # The same events, one after the other, in memory.
    serial = InMemoryUnitOfWork()
    scenario = load_scenario(stool)
    assert run_scenario(serial, scenario).ok
    for f in files:
        services.post_events(serial, read_events(f, serial.ledger.master))

    engine = make_engine(url)
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert reports.verify(uow.ledger) == []
        assert dict(uow.ledger.balances()) == {k: v for k, v in serial.ledger.balances().items()
                                               if k in uow.ledger.balances()}
        assert {k: v for k, v in uow.ledger.balances().items() if v} == \
            {k: v for k, v in serial.ledger.balances().items() if v}
        assert {k: v for k, v in uow.ledger.stock().items() if v} == \
            {k: v for k, v in serial.ledger.stock().items() if v}
        assert len(uow.ledger.event_ids()) == len(serial.ledger.event_ids())
    engine.dispose()


def test_a_serialization_failure_rolls_back_and_is_retried(pg_engine: object) -> None:
    from datetime import date
    from decimal import Decimal

    from backflush.domain.events import Receipt
    from backflush.service_layer.unit_of_work import ConcurrencyError, with_retries

    truncate_all(pg_engine)  # type: ignore[arg-type]
    engine = make_engine(PG_URL)
    scenario = load_scenario(ROOT / "examples" / "stool.yaml")
    assert run_scenario(SqlUnitOfWork(engine), scenario).ok

    def receipt(n: int) -> Receipt:
        return Receipt(id=f"R{n}", date=date(2026, 12, 1), item="LEG", qty=Decimal(1),
                       unit_price=Decimal(1))

    first = SqlUnitOfWork(engine)
    with pytest.raises(ConcurrencyError), first:
        first.ledger.on_hand("LEG", "stores")  # the snapshot is taken here
        services.post_events(SqlUnitOfWork(engine), [receipt(1)])  # commits meanwhile
        services.post_one(first.ledger, receipt(2))
        first.commit()
    calls: list[int] = []

    def use_case() -> services.BatchResult:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrencyError("simulated")
        return services.post_events(SqlUnitOfWork(engine), [receipt(2)])

    assert with_retries(use_case).posted == 1 and len(calls) == 3
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.ledger.stock()[("LEG", "stores")] == Decimal(602)
        assert reports.verify(uow.ledger) == []
    engine.dispose()
