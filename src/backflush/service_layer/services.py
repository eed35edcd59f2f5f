"""Use cases. Each takes a unit of work and runs inside one transaction: all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from backflush.domain.costing import MasterData, check_master_data, roll_up
from backflush.domain.errors import DuplicateEventError, Problem, ValidationError
from backflush.domain.events import Event
from backflush.domain.journal import Alert
from backflush.domain.opening import Opening
from backflush.domain.policy import Disposition, Policy
from backflush.domain.posting import Context, post
from backflush.service_layer.repository import LedgerRepository
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass
class BatchResult:
    posted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def validate_policy(policy: Policy) -> list[Problem]:
    problems = []
    if policy.disposition["conversion"] is Disposition.KEEP:
        problems.append(Problem("policy", "disposition",
                                "conversion variances are written off or prorated at close; "
                                "'keep' is for material variances only"))
    return problems


def set_up_ledger(uow: UnitOfWork, master: MasterData, policy: Policy, as_of: date,
                  opening: Opening | None = None) -> None:
    """Load master data and policy into an empty ledger, roll up costs, post the opening."""
    with uow:
        set_up_ledger_in(uow, master, policy, as_of, opening)
        uow.commit()


def set_up_ledger_in(uow: UnitOfWork, master: MasterData, policy: Policy, as_of: date,
                     opening: Opening | None = None) -> None:
    """:func:`set_up_ledger` inside the caller's transaction."""
    problems = validate_policy(policy)
    if problems:
        raise ValidationError(problems)
    check_master_data(master)
    if uow.ledger.ready:
        raise ValidationError([Problem("ledger", None, "this ledger is already set up")])
    uow.ledger.setup(master, policy, roll_up(master, as_of))
    if opening is not None:
        post_one(uow.ledger, opening)


def post_one(ledger: LedgerRepository, event: Event) -> bool:
    """Post one event inside the caller's transaction; False when it is a duplicate."""
    digest = event.content_hash()
    known = ledger.content_hash(event.id)
    if known is not None:
        if known == digest:
            return False
        raise DuplicateEventError(event.id, "this id was posted before with different content; "
                                  "use a new id, or reverse the original first", "id")
    posting = post(Context(ledger.master, ledger.policy, ledger.costs, ledger), event)
    ledger.record(event, posting)
    return True


def post_events(uow: UnitOfWork, events: Iterable[Event],
                progress: Callable[[int], None] | None = None) -> BatchResult:
    """Post a batch atomically: every event or none. Duplicates are skipped and reported."""
    with uow:
        result = post_events_in(uow, events, progress)
        uow.commit()
    return result


def post_events_in(uow: UnitOfWork, events: Iterable[Event],
                   progress: Callable[[int], None] | None = None) -> BatchResult:
    """:func:`post_events` inside the caller's transaction."""
    result = BatchResult()
    if not uow.ledger.anything_posted():
        check_master_data(uow.ledger.master)  # imports may have left it incomplete
    for n, event in enumerate(events, 1):
        if post_one(uow.ledger, event):
            result.posted.append(event.id)
        else:
            result.duplicates.append(event.id)
        if progress is not None:
            progress(n)
    result.alerts = list(uow.ledger.alerts())
    return result
