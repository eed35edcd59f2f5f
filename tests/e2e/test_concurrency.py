"""Concurrency: four processes post completions against the same components at once, into
one SQLite file or one PostgreSQL database; no update is lost (the books equal the same
events posted one after the other), and conflicts are rerun, never dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from backflush.adapters.files import load_scenario, stream_events
from backflush.bootstrap import Ledger, memory_ledger, open_ledger
from backflush.service_layer import reports
from backflush.service_layer.posting import post_events
from backflush.service_layer.scenario import run_scenario
from tests.e2e.support import STOOL, bf, ok
from tests.support import PG_URL, fresh_postgres

WORKERS, EACH = 4, 40


def _files(tmp_path: Path, each: int) -> list[Path]:
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


def _books(ledger: Ledger) -> tuple[dict[str, Decimal], dict[tuple[str, str], Decimal], int,
                                    list[str]]:
    """Non-zero balances, non-zero stock, events posted, broken invariants."""
    with ledger.unit_of_work(read_only=True) as uow:
        return ({k: v for k, v in uow.journal.balances().items() if v},
                {k: v for k, v in uow.stock.balances().items() if v}, uow.events.count(),
                reports.verify(uow))


@pytest.mark.parametrize(("kind", "journal", "batch"), [
    ("sqlite", "per_event", "1"), ("sqlite", "summary", "5"),
    ("postgresql", "per_event", "1"), ("postgresql", "summary", "7")])
def test_four_processes_post_at_once_with_no_lost_update(
        request: pytest.FixtureRequest, tmp_path: Path, kind: str, journal: str,
        batch: str) -> None:
    if kind == "postgresql":
        fresh_postgres(request.getfixturevalue("pg_engine")).cache.clear()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert bf("post", str(STOOL), "--db", url).code == 4  # no ledger yet
    ok("init", "--db", url, "--from", str(STOOL), "--journal", journal)
    ok("post", str(STOOL), "--db", url)
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
    serial = memory_ledger()
    assert run_scenario(serial.unit_of_work(), load_scenario(STOOL)).ok
    with serial.unit_of_work(read_only=True) as uow:
        master = uow.master.master()
    for f in files:
        post_events(serial.unit_of_work(), stream_events(f, master))

    kept = open_ledger(url)
    try:
        balances, stock, count, broken = _books(kept)
    finally:
        kept.close()
    want_balances, want_stock, want_count, _ = _books(serial)
    assert broken == []
    assert balances == want_balances
    assert stock == want_stock
    assert count == want_count == 6 + WORKERS * each
