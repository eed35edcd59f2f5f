"""A scenario: master data, a policy and a stream of events, run into a fresh ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from backflush.domain.costing import MasterData
from backflush.domain.errors import BackflushError, PostingError, Problem, ValidationError
from backflush.domain.events import Event
from backflush.domain.opening import Opening
from backflush.domain.policy import Policy
from backflush.service_layer import services
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Scenario:
    name: str
    policy: Policy
    master: MasterData
    events: tuple[Event, ...]
    as_of: date
    opening: Opening | None = None
    source: str = ""
    # Where each event came from, for error messages: event id -> "events[3]" (and its line).
    locations: dict[str, tuple[str, int | None]] = field(default_factory=dict)


@dataclass
class RunOutcome:
    ok: bool
    errors: list[Problem] = field(default_factory=list)
    result: services.BatchResult | None = None


def run_scenario(uow: UnitOfWork, scenario: Scenario,
                 progress: Callable[[int], None] | None = None) -> RunOutcome:
    """Set up the ledger and post every event in one transaction: all of it, or nothing."""
    try:
        with uow:
            services.set_up_ledger_in(uow, scenario.master, scenario.policy, scenario.as_of,
                                      scenario.opening)
            result = services.post_events_in(uow, scenario.events, progress)
            uow.commit()
        return RunOutcome(True, [], result)
    except ValidationError as exc:
        return RunOutcome(False, [_locate(p, scenario) for p in exc.problems])
    except PostingError as exc:
        where, line = scenario.locations.get(exc.event_id, (f"event {exc.event_id}", None))
        return RunOutcome(False, [Problem(where, exc.field, exc.reason, scenario.source, line)])
    except BackflushError as exc:
        return RunOutcome(False, [Problem("scenario", None, str(exc), scenario.source)])


def _locate(problem: Problem, scenario: Scenario) -> Problem:
    if problem.source:
        return problem
    return Problem(problem.entry, problem.field, problem.message, scenario.source, problem.line)
