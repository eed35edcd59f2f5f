"""The shop floor over HTTP: the kanban board, open signals, sending signals, loop sizing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from backflush.domain.kanban import KanbanLine
from backflush.domain.numbers import fmt_qty
from backflush.entrypoints.http import deps
from backflush.entrypoints.http.deps import Caller, caller
from backflush.entrypoints.http.models import Day, Dec, Out, QueueItem
from backflush.entrypoints.http.problems import PROBLEM_RESPONSES, ApiError
from backflush.service_layer import kanban
from backflush.service_layer.access import Access
from backflush.service_layer.queue import retry_held
from backflush.service_layer.replenishing import send_signals
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["shop floor"])


class KanbanOut(Out):
    """A supermarket item now: demand of the released orders (and issues owed there) − on
    hand − open signals, rounded up to whole containers."""

    item: str
    location: str
    on_hand: Dec
    demand: Dec
    open_signals: Dec
    replenish_qty: Dec
    containers: int
    container_qty: Dec


class SignalOut(Out):
    id: str
    item: str
    location: str
    date: Day
    qty: Dec  # still open (asked for, when just sent)


class RetriedOut(Out):
    posted: list[str]
    still_held: list[QueueItem]


class SizingOut(Out):
    item: str
    location: str
    daily_demand: Dec
    lead_time_days: Dec
    safety: Dec
    container_qty: Dec
    containers: int
    kanban_qty: Dec


def _line(ln: KanbanLine) -> KanbanOut:
    return KanbanOut(item=ln.item, location=ln.location, on_hand=fmt_qty(ln.on_hand),
                     demand=fmt_qty(ln.demand), open_signals=fmt_qty(ln.open_signals),
                     replenish_qty=fmt_qty(ln.replenish_qty), containers=ln.containers,
                     container_qty=fmt_qty(ln.container_qty))


@router.get("/kanban", response_model=list[KanbanOut], summary="The kanban board")
def board(who: Caller = caller(Access.VIEWER)) -> list[KanbanOut]:
    """Every supermarket item's kanban quantity, computed now, in master-data order."""
    return deps.read(who.ledger, lambda uow: [_line(ln) for ln in kanban.kanban(uow)])


@router.get("/kanban/signals", response_model=list[SignalOut], summary="Open signals")
def open_signals(who: Caller = caller(Access.VIEWER)) -> list[SignalOut]:
    """Signals sent and not yet filled by transfers into their supermarket, oldest first at
    each supermarket."""
    def use(uow: UnitOfWork) -> list[SignalOut]:
        return [SignalOut(id=s.source, item=s.item, location=s.location,
                          date=s.opened_on.isoformat(), qty=fmt_qty(s.qty))
                for s in kanban.signal_list(uow)]

    return deps.read(who.ledger, use)


@router.post("/kanban/signals", status_code=201, response_model=list[SignalOut],
             summary="Send the kanban cards")
def send(who: Caller = caller(Access.OPERATOR),
         on: Annotated[date | None, Query(alias="date", description="The signals' date "
                                          "(default: the latest event's)")] = None
         ) -> list[SignalOut]:
    """Post a signal for each supermarket item short of its demand, for its replenishment
    quantity, all or nothing. Sent again, it sends only what is still short (nothing, once
    the first answer went through)."""
    sent = deps.write(who, lambda: send_signals(who.ledger.unit_of_work(), on))
    return [SignalOut(id=s.id, item=s.item, location=s.location, date=s.date.isoformat(),
                      qty=fmt_qty(s.qty)) for s in sent]


@router.get("/kanban/sizing", response_model=list[SizingOut], summary="Kanban loop sizing")
def loop_sizing(who: Caller = caller(Access.VIEWER),
                start: Annotated[date | None, Query(alias="from")] = None,
                end: Annotated[date | None, Query(alias="to")] = None) -> list[SizingOut]:
    """Cards = daily demand (what completions backflushed over the window, default the 28
    days to the latest event) × lead time × (1 + safety) ÷ container, rounded up."""
    if start is not None and end is not None and start > end:
        raise ApiError(422, "invalid", f"from {start} is after to {end}", field="from")
    found = deps.read(who.ledger, lambda uow: kanban.sizing_report(uow, start, end))
    return [SizingOut(item=s.item, location=s.location, daily_demand=fmt_qty(s.daily_demand),
                      lead_time_days=fmt_qty(s.lead_time_days), safety=fmt_qty(s.safety),
                      container_qty=fmt_qty(s.container_qty), containers=s.containers,
                      kanban_qty=fmt_qty(s.kanban_qty)) for s in found.lines]


@router.post("/queue/retry", response_model=RetriedOut, summary="Retry the held completions")
def retry(who: Caller = caller(Access.OPERATOR)) -> RetriedOut:
    """Post every completion held unposted again, oldest first, in one transaction: those
    that post leave the queue (one whose period was closed since posts on the first open
    day); the others stay, with the reason they fail now."""
    done = deps.write(who, lambda: retry_held(who.ledger.unit_of_work()))
    return RetriedOut(posted=done.posted, still_held=[QueueItem.of(p) for p in done.still])

