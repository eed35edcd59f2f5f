"""Helpers of the end-to-end tests: the command in-process (CliRunner) and as a real
process, and a snapshot of a ledger to show that a failed command changed nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backflush.adapters.sql import make_engine
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.schema import LEDGER_TABLES
from backflush.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[2]
STOOL = ROOT / "examples" / "stool.yaml"
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """Both streams with every run of blanks made one space (tables wrap)."""
        return " ".join(self.output.split())


def bf(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """The command in-process; an exception escaping it is a test failure."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def ok(*args: str) -> Outcome:
    out = bf(*args)
    assert out.code == 0, out.output
    return out


def process(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            cwd: Path | None = None) -> Outcome:
    """The command as a real process (``python -m backflush``)."""
    run = subprocess.run([sys.executable, "-m", "backflush", *args], capture_output=True,
                         text=True, timeout=timeout, cwd=cwd,
                         env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    return Outcome(run.returncode, run.stdout, run.stderr)


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def trial_balance(db: str) -> dict[str, str]:
    out = ok("report", "trial-balance", "--db", db, "--format", "json")
    return {r["account"]: r["debit"] or "-" + r["credit"] for r in json.loads(out.stdout)}


def row_counts(db: str) -> dict[str, int]:
    """Rows in every table of the ledger (read directly, not through the command)."""
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(
                t.metadata.tables[name])).scalar_one() for name in LEDGER_TABLES}
    finally:
        engine.dispose()


def snapshot(db: str) -> tuple[dict[str, str], dict[str, int]]:
    """What a failed command must leave as it was: the trial balance and the row counts."""
    return trial_balance(db), row_counts(db)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def stool_ledger(db: str) -> str:
    """A ledger with the stool plant's master data and its six events posted."""
    ok("init", "--db", db, "--from", str(STOOL))
    ok("post", str(STOOL), "--db", db)
    return db


def no_traceback(out: Outcome) -> None:
    assert TRACEBACK not in out.output, out.output


def doc(out: Outcome) -> Any:
    return json.loads(out.stdout)


def writing(url: str) -> bool:
    """Is a connection inside a write transaction on this SQLite ledger right now?"""
    import sqlite3

    probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def chromium() -> str:
    """Debian's Chromium (the browser tests skip without it, and fail under CI=true)."""
    found = shutil.which("chromium")
    if found is None:
        message = "no chromium: run scripts/install-chromium.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI needs a browser: " + message)
        pytest.skip(message)
    return found

