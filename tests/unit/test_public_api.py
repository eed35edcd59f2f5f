"""The public API is curated: these names, and only these, are what library users import
from ``backflush`` (pinned, as httpx pins its exported members)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import backflush

EXPORTED = [
    "BackflushError", "BatchResult", "BomCycleError", "BomLine", "BomVersion", "Boms", "Close",
    "Completion", "ConcurrencyError", "ConversionIncurred", "ConversionMode", "CostChange",
    "Count", "Disposition", "DuplicateEventError", "Event", "Item", "Journal", "Ledger",
    "LedgerError", "MasterData", "Method", "NegativeStock", "NegativeStockError", "NumberError",
    "Opening", "OpeningStock", "Operation", "PeriodLockedError", "Policy", "PostingError",
    "Problem", "Receipt", "Release", "Reversal", "Role", "Sale", "Scenario", "Scrap", "Stage",
    "StorageError", "Transfer", "ValidationError", "WorkCenter", "__version__", "create_ledger",
    "explain", "import_costs", "import_master", "journal", "load_scenario", "memory_ledger",
    "open_ledger", "post_events", "roll_up", "run_scenario", "scenario_from_text",
    "set_up_ledger", "stock_report", "stream_events", "trial_balance", "variance_report",
    "verify",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(backflush.__all__) == sorted(EXPORTED)


def test_every_public_name_resolves() -> None:
    for name in backflush.__all__:
        assert getattr(backflush, name) is not None, name


def test_importing_backflush_loads_no_storage_or_file_library() -> None:
    code = ("import sys, backflush; heavy = {'sqlalchemy', 'alembic', 'pydantic', 'openpyxl', "
            "'yaml', 'msgspec', 'rich', 'typer'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_readmes_library_example_runs_as_written() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert "import backflush as bf" in block
    out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                         cwd=root, check=True).stdout
    assert "1 posted" in out and "Accounts Payable" in out and out.endswith("verified\n")


def test_every_lazily_imported_name_is_exported() -> None:
    assert set(backflush.__all__) == {"__version__", *backflush._HOME}
