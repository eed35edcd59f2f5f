"""Use cases. Each takes a unit of work and runs inside one transaction: all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from backflush.domain.costing import MasterData, check_master_data, roll_up
from backflush.domain.errors import DuplicateEventError, Problem, ValidationError
from backflush.domain.events import Event, Flow, FlowRun
from backflush.domain.opening import Opening
from backflush.domain.policy import Disposition, Journal, Method, Policy
from backflush.domain.posting import Context, post
from backflush.domain.summary import (
    SUMMARISED_EVENTS,
    summarise,
    warm,
)
from backflush.service_layer.repository import LedgerRepository
from backflush.service_layer.unit_of_work import UnitOfWork

RUN_SIZE = 100_000  # events summarised together (bounded memory, whatever the file's size)
LISTED = 1_000  # duplicates listed by id; beyond, only counted


@dataclass
class BatchResult:
    posted: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)  # the first LISTED, in order
    summarised: int = 0  # of the posted events, those posted in summary entries

    def duplicate(self, event_id: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_ids) < LISTED:
            self.duplicate_ids.append(event_id)


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
    if _known(ledger, event, ledger.stored_event(event.id)):
        return False
    posting = post(Context(ledger.master, ledger.policy, ledger.costs, ledger), event)
    ledger.record(event, posting)
    return True


def _known(ledger: LedgerRepository, event: Event, stored: Event | None) -> bool:
    """True when ``event`` was posted before with the same content; refused if different."""
    if stored is None:
        return False
    if stored.content() == event.content():
        return True
    raise DuplicateEventError(event.id, "this id was posted before with different content; "
                              "use a new id, or reverse the original first", "id")


def post_events(uow: UnitOfWork, events: Iterable[Event | Flow | FlowRun],
                progress: Callable[[int], None] | None = None) -> BatchResult:
    """Post a batch atomically: every event or none. Duplicates are skipped and reported."""
    with uow:
        result = post_events_in(uow, events, progress)
        uow.commit()
    return result


def post_events_in(uow: UnitOfWork, events: Iterable[Event | Flow | FlowRun],
                   progress: Callable[[int], None] | None = None, *,
                   run_size: int = RUN_SIZE) -> BatchResult:
    """:func:`post_events` inside the caller's transaction.

    Under ``journal: summary`` consecutive completions, receipts and sales are gathered in
    runs of ``run_size`` and posted in summary entries (one per day of a run); any other
    event, or a run that cannot be summarised exactly, is posted event by event, in order.
    ``events`` may be a stream, and may hold :class:`FlowRun` s (flows in columns, as a
    bulk reader hands them over): memory stays bounded by the run size.
    """
    ledger = uow.ledger
    result = BatchResult()
    if not ledger.anything_posted():
        check_master_data(ledger.master)  # imports may have left it incomplete
    policy = ledger.policy
    summary = policy.journal is Journal.SUMMARY and policy.method is Method.BACKFLUSH
    run: list[Event | Flow] = []
    done = 0

    def flush() -> None:
        nonlocal run, done
        if run:
            _post_run(ledger, run, result)
            done += len(run)
            run = []

    # FlowRuns (flows in columns, as the bulk reader hands them over) are gathered up to
    # the run size; their shapes are worked out as they come, while the reader goes on.
    columns: list[FlowRun] = []
    gathered = 0

    def post_columns() -> None:
        nonlocal columns, gathered, done
        if not columns:
            return
        whole = FlowRun.join(columns)  # one width: a new width posts what came before
        # Runs are posted as soon as they reach the run size, so what is gathered stays under
        # twice that unless one chunk alone is bigger: only then is it cut (a slice counts
        # its events again).
        size = len(whole) if len(whole) < 2 * run_size else run_size
        for start in range(0, len(whole), size):
            piece = whole[start:start + size] if len(whole) > size else whole
            _post_run(ledger, piece, result)
            done += len(piece)
        columns, gathered = [], 0

    for event in events:
        if isinstance(event, FlowRun):
            if not summary:
                for flow in event:
                    _post_single(ledger, flow, result)
                    done += 1
            else:
                flush()
                if columns and columns[-1].width != event.width:
                    post_columns()
                columns.append(event)
                gathered += len(event)
                if gathered < run_size:
                    warm(Context(ledger.master, ledger.policy, ledger.costs, ledger),
                         event.counts)
                    continue
                post_columns()
        elif summary and (type(event) is Flow or event.type in SUMMARISED_EVENTS):
            post_columns()
            run.append(event)
            if len(run) < run_size:
                continue
            flush()
        else:
            post_columns()
            flush()
            _post_single(ledger, event, result)
            done += 1
        if progress is not None:
            progress(done)
    if run or columns:
        post_columns()
        flush()
        if progress is not None:
            progress(done)
    _settle(ledger, result)  # the last run, if written behind
    return result


def _post_single(ledger: LedgerRepository, event: Event | Flow, result: BatchResult) -> None:
    _settle(ledger, result)
    full = event.event() if isinstance(event, Flow) else event
    if post_one(ledger, full):
        result.posted += 1
    else:
        result.duplicate(full.id)


def _post_run(ledger: LedgerRepository, run: Sequence[Event | Flow], result: BatchResult
              ) -> None:
    """Post a run in summary entries, or event by event when it cannot be summarised.

    The store may write a run behind (PostgreSQL: while the next run is read and summarised);
    the run before this one is settled once this run's summary is worked out. If its ids
    clashed, it is posted again without them, and this run's summary is worked out afresh.
    """
    summary = summarise(Context(ledger.master, ledger.policy, ledger.costs, ledger), run)
    if _settle(ledger, result):
        summary = summarise(Context(ledger.master, ledger.policy, ledger.costs, ledger), run)
    if summary is None:
        for event in run:
            _post_single(ledger, event, result)
        return
    clashes = ledger.record_summary(run, summary)
    if clashes is None:  # written, or being written behind (then settled later)
        result.posted += len(run)
        result.summarised += len(run)
        return
    _post_without(ledger, run, clashes, result)


def _settle(ledger: LedgerRepository, result: BatchResult) -> bool:
    """Settle what is written behind; a run whose ids clashed (nothing of it was kept) is
    posted without them (and settled in turn). Whether any clashed: the store's balances
    are then not those a summary worked out meanwhile saw."""
    clashed = False
    while (found := ledger.settle()) is not None:
        run, clashes = found
        result.posted -= len(run)
        result.summarised -= len(run)
        _post_without(ledger, run, clashes, result)
        clashed = True
    return clashed


def _post_without(ledger: LedgerRepository, run: Sequence[Event | Flow], clashes: set[str],
                  result: BatchResult) -> None:
    """Some ids of ``run`` were posted before, or come twice: nothing of it was written.
    Skip the duplicates (refusing an id reused with other content) and post the rest."""
    keep: list[Event | Flow] = []
    first: dict[str, Event] = {}
    for event in run:
        if event.id not in clashes:
            keep.append(event)
            continue
        full = event.event() if isinstance(event, Flow) else event
        if _known(ledger, full, first.get(full.id) or ledger.stored_event(full.id)):
            result.duplicate(full.id)
        else:
            first[full.id] = full
            keep.append(event)
    if keep:
        _post_run(ledger, keep, result)
