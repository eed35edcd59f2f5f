"""A scenario: master data, a policy and a stream of events, run into a fresh ledger."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from backflush.domain.errors import (
    BackflushError,
    ConcurrencyError,
    LedgerError,
    PostingError,
    Problem,
    StorageError,
    ValidationError,
)
from backflush.domain.events import Opening
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Policy
from backflush.service_layer.batch import BatchResult, Located
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.setup import set_up_ledger_in
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Scenario:
    """What a scenario file says: the plant, its policy and its events, each located."""

    name: str
    policy: Policy
    master: MasterData
    events: tuple[Located, ...]
    as_of: date  # the first day of the ledger (the month of the first event)
    opening: Opening | None = None
    source: str = ""


@dataclass
class RunOutcome:
    ok: bool
    errors: list[Problem] = field(default_factory=list)
    result: BatchResult | None = None
    refused: bool = False  # an event was refused (else, when not ok: the input is invalid)


def run_scenario(uow: UnitOfWork, scenario: Scenario,
                 progress: Callable[[int], None] | None = None) -> RunOutcome:
    """Set up the ledger and post every event in one transaction: all of it, or nothing."""
    try:
        with uow:
            set_up_ledger_in(uow, scenario.master, scenario.policy, scenario.as_of,
                             scenario.opening)
            result = post_events_in(uow, scenario.events, progress)
            uow.commit()
        return RunOutcome(True, [], result)
    except ValidationError as exc:
        return RunOutcome(False, [p.located(scenario.source, None) for p in exc.problems])
    except PostingError as exc:
        problem = exc.problem
        if problem.source is None:
            problem = problem.located(scenario.source, None)
        return RunOutcome(False, [problem], refused=True)
    except (LedgerError, StorageError, ConcurrencyError):
        raise  # the storage, not the scenario: the caller says so (and may run it again)
    except BackflushError as exc:
        return RunOutcome(False, [Problem("scenario", None, str(exc), scenario.source)])


def first_day(events: Sequence[Located]) -> date | None:
    """The first day of the month of the earliest event, or None without events."""
    dates = [located.event.date for located in events]
    return min(dates).replace(day=1) if dates else None
