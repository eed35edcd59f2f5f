"""Crash safety: a posting process killed with SIGKILL mid-batch leaves all of the batch or
none of it, and a sound ledger; posting the file again completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from backflush.adapters.sql import make_engine
from backflush.adapters.sql import schema as t
from tests.e2e.support import STOOL, ok, writing

EVENTS = 150_000  # long enough that the kill lands inside the batch (summarised: fast)


def _batch(path: Path) -> Path:
    with path.open("w") as fh:
        for i in range(EVENTS // 3):
            for ev in ({"type": "receipt", "id": f"R{i}", "item": "LEG", "qty": "3",
                        "unit_price": "1.00"},
                       {"type": "receipt", "id": f"S{i}", "item": "SEAT", "qty": "1",
                        "unit_price": "5.05"},
                       {"type": "completion", "id": f"W{i}", "item": "STOOL", "qty": "1"}):
                fh.write(json.dumps({**ev, "date": "2026-12-02"}) + "\n")
    return path


def _writing(url: str) -> bool:
    """Is another connection inside a write transaction right now?"""
    if url.startswith("sqlite"):
        return writing(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar())
    finally:
        engine.dispose()


def _counts(url: str) -> tuple[int, int]:
    """Events of the batch's day, and events in all."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            posted = conn.execute(
                select(func.count()).select_from(t.events.join(
                    t.event_bodies, t.events.c.body == t.event_bodies.c.n))
                .where(t.event_bodies.c.date == date(2026, 12, 2))).scalar_one()
            every = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
    finally:
        engine.dispose()
    return posted, every


def test_sigkill_mid_batch_leaves_all_or_nothing(db_url: str, tmp_path: Path) -> None:
    ok("init", "--db", db_url, "--from", str(STOOL))
    ok("post", str(STOOL), "--db", db_url)
    batch = _batch(tmp_path / "batch.jsonl")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "backflush", "post", str(batch), "--db",
                           db_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env) as child:
        deadline = time.monotonic() + 120
        while not _writing(db_url):
            assert child.poll() is None, child.stdout.read() if child.stdout else ""
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.05)
        time.sleep(0.5)  # well into the batch
        assert child.poll() is None, "the batch finished before the kill; make it larger"
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL

    assert "Ledger verified" in ok("verify", "--db", db_url).stdout
    posted, every = _counts(db_url)
    assert posted in (0, EVENTS)
    assert every - posted == 6  # the stool file's six events are intact
    # Posting the file again completes it; the ledger is still sound.
    out = ok("post", str(batch), "--db", db_url)
    assert f"Posted {EVENTS - posted} events" in out.stdout
    ok("verify", "--db", db_url)
    assert _counts(db_url) == (EVENTS, EVENTS + 6)
