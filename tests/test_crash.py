"""Crash safety: a posting process killed with SIGKILL mid-batch leaves a sound ledger."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.db import make_engine
from backflush.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[1]
EVENTS = 6000  # long enough that the kill lands inside the batch


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
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar())
    finally:
        engine.dispose()


def test_sigkill_mid_batch_leaves_all_or_nothing(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    stool = ROOT / "examples" / "stool.yaml"
    assert runner.invoke(app, ["init", "--db", db_url, "--from", str(stool)]).exit_code == 0
    assert runner.invoke(app, ["post", str(stool), "--db", db_url]).exit_code == 0
    batch = _batch(tmp_path / "batch.jsonl")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, "-m", "backflush", "post", str(batch), "--db",
                              db_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env)
    deadline = time.monotonic() + 120
    while not _writing(db_url):
        assert child.poll() is None, child.stdout.read() if child.stdout else ""
        assert time.monotonic() < deadline, "the child never started writing"
        time.sleep(0.05)
    time.sleep(0.5)  # well into the batch
    assert child.poll() is None, "the batch finished before the kill; make it larger"
    child.send_signal(signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    if child.stdout:
        child.stdout.close()

    result = runner.invoke(app, ["verify", "--db", db_url])
    assert result.exit_code == 0, result.output
    engine = make_engine(db_url)
    with engine.connect() as conn:
        posted = conn.execute(select(func.count()).select_from(t.events)
                              .where(t.events.c.date == date(2026, 12, 2))).scalar_one()
        before = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
    engine.dispose()
    assert posted in (0, EVENTS)
    assert before - posted == 6  # the stool file's six events are intact
    # Posting the file again completes it; the ledger is still sound.
    result = runner.invoke(app, ["post", str(batch), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["verify", "--db", db_url]).exit_code == 0
