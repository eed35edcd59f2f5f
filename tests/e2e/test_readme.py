"""The README's commands run as written: every ``sh`` block (but the quick start, which is
CI itself) as one shell script in a fresh folder holding the shipped ``examples/``, and the
scenario snippet through the engine. A renamed option, a file that no longer ships or a
snippet whose books do not balance fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import backflush as bf
from tests.e2e.support import ROOT, TRACEBACK

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(sh|yaml)\n(.*?)```", README, flags=re.S)
SHELL = [text for kind, text in BLOCKS if kind == "sh" and "make demo" not in text]


def test_the_readme_has_the_blocks_this_test_runs() -> None:
    assert len(SHELL) >= 3 and any("examples/plant/events.csv" in b for b in SHELL)
    assert sum(kind == "yaml" for kind, _ in BLOCKS) == 1


@pytest.mark.parametrize("block", SHELL, ids=[f"block{i}" for i in range(len(SHELL))])
def test_every_shell_block_runs_as_written(block: str, tmp_path: Path) -> None:
    assert block.startswith("B=.venv/bin/backflush\n"), "a block starts by naming $B"
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    script = block.replace("B=.venv/bin/backflush",
                           f"B='{sys.executable} -m backflush'", 1)
    env = {k: v for k, v in os.environ.items() if k != "BACKFLUSH_DB"}
    run = subprocess.run(["bash", "-euo", "pipefail", "-x", "-c", script], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-4000:]
    assert TRACEBACK not in run.stdout + run.stderr


def test_the_scenario_snippet_runs_and_its_books_make_sense() -> None:
    text = next(t for kind, t in BLOCKS if kind == "yaml")
    ledger = bf.memory_ledger()
    outcome = bf.run_scenario(ledger.unit_of_work(), bf.scenario_from_text(text, "README"))
    assert outcome.ok, outcome.errors
    with ledger.unit_of_work(read_only=True) as uow:
        assert bf.verify(uow) == []
        balances = dict(bf.trial_balance(uow))
    assert balances["Raw and In-Process Inventory"] > 0
    assert balances["Finished Goods Inventory"] > 0
    assert balances["Cost of Goods Sold"] > 0
    assert abs(balances["Sales Revenue"]) == Decimal("237500.00")
