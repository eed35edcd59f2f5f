"""backflush: a backflush costing and backflush inventory engine.

The public API, for library use (everything else is an implementation module)::

    import backflush as bf

    ledger = bf.memory_ledger()                       # or bf.open_ledger("sqlite:///plant.db")
    outcome = bf.run_scenario(ledger.unit_of_work(), bf.load_scenario("examples/stool.yaml"))
    bf.post_events(ledger.unit_of_work(), [bf.Receipt(id="PO-9", date=..., item="LEG", ...)])
    with ledger.unit_of_work(read_only=True) as uow:
        print(bf.trial_balance(uow), bf.verify(uow))

Names are imported when first used, so ``import backflush`` (and the CLI's start-up) stays
light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_HOME = {
    # ledgers (the composition root)
    "Ledger": "backflush.bootstrap", "memory_ledger": "backflush.bootstrap",
    "open_ledger": "backflush.bootstrap", "create_ledger": "backflush.bootstrap",
    # use cases
    "set_up_ledger": "backflush.service_layer.setup",
    "post_events": "backflush.service_layer.posting",
    "BatchResult": "backflush.service_layer.batch",
    "Scenario": "backflush.service_layer.scenario",
    "run_scenario": "backflush.service_layer.scenario",
    "import_master": "backflush.service_layer.imports",
    "import_costs": "backflush.service_layer.imports",
    "trial_balance": "backflush.service_layer.reports",
    "stock_report": "backflush.service_layer.reports",
    "variance_report": "backflush.service_layer.reports",
    "journal": "backflush.service_layer.reports",
    "verify": "backflush.service_layer.reports",
    "explain": "backflush.service_layer.reports",
    # files
    "load_scenario": "backflush.adapters.files",
    "scenario_from_text": "backflush.adapters.files",
    "stream_events": "backflush.adapters.files",
    # master data and policy
    "Item": "backflush.domain.items",
    "BomLine": "backflush.domain.bom", "BomVersion": "backflush.domain.bom",
    "Boms": "backflush.domain.bom",
    "WorkCenter": "backflush.domain.routing", "Operation": "backflush.domain.routing",
    "MasterData": "backflush.domain.masterdata",
    "roll_up": "backflush.domain.rollup",
    "Policy": "backflush.domain.policy", "Stage": "backflush.domain.policy",
    "ConversionMode": "backflush.domain.policy", "Disposition": "backflush.domain.policy",
    "NegativeStock": "backflush.domain.policy", "Journal": "backflush.domain.policy",
    "Method": "backflush.domain.policy", "Role": "backflush.domain.policy",
    # events
    **dict.fromkeys(("Event", "Receipt", "ConversionIncurred", "Completion", "Scrap", "Sale",
                     "Transfer", "Count", "Release", "Reversal", "CostChange", "Close",
                     "Opening", "OpeningStock"), "backflush.domain.events"),
    # errors
    **dict.fromkeys(("BackflushError", "NumberError", "ValidationError", "BomCycleError",
                     "PostingError", "PeriodLockedError", "NegativeStockError",
                     "DuplicateEventError", "LedgerError", "StorageError", "ConcurrencyError",
                     "Problem"), "backflush.domain.errors"),
}

# Literal, so that type checkers see what is exported (a test holds it equal to _HOME).
__all__ = [
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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'backflush' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what type checkers and editors see
    from backflush.adapters.files import load_scenario, scenario_from_text, stream_events
    from backflush.bootstrap import Ledger, create_ledger, memory_ledger, open_ledger
    from backflush.domain.bom import BomLine, Boms, BomVersion
    from backflush.domain.errors import (
        BackflushError,
        BomCycleError,
        ConcurrencyError,
        DuplicateEventError,
        LedgerError,
        NegativeStockError,
        NumberError,
        PeriodLockedError,
        PostingError,
        Problem,
        StorageError,
        ValidationError,
    )
    from backflush.domain.events import (
        Close,
        Completion,
        ConversionIncurred,
        CostChange,
        Count,
        Event,
        Opening,
        OpeningStock,
        Receipt,
        Release,
        Reversal,
        Sale,
        Scrap,
        Transfer,
    )
    from backflush.domain.items import Item
    from backflush.domain.masterdata import MasterData
    from backflush.domain.policy import (
        ConversionMode,
        Disposition,
        Journal,
        Method,
        NegativeStock,
        Policy,
        Role,
        Stage,
    )
    from backflush.domain.rollup import roll_up
    from backflush.domain.routing import Operation, WorkCenter
    from backflush.service_layer.batch import BatchResult
    from backflush.service_layer.imports import import_costs, import_master
    from backflush.service_layer.posting import post_events
    from backflush.service_layer.reports import (
        explain,
        journal,
        stock_report,
        trial_balance,
        variance_report,
        verify,
    )
    from backflush.service_layer.scenario import Scenario, run_scenario
    from backflush.service_layer.setup import set_up_ledger
