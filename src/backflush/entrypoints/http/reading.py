"""Reports, periods (close, reopen), the pending queue and alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from backflush.domain.errors import NumberError
from backflush.domain.events import Event, period_bounds
from backflush.domain.numbers import PRICE, to_decimal
from backflush.entrypoints.http import convert, deps
from backflush.entrypoints.http import models as m
from backflush.entrypoints.http.deps import Caller, caller
from backflush.entrypoints.http.problems import PROBLEM_RESPONSES, ApiError, responses
from backflush.service_layer.access import Access
from backflush.service_layer.ports import StoredAlert
from backflush.service_layer.reports import Window
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(responses=PROBLEM_RESPONSES)
ReportName = Literal["trial-balance", "stock", "variances", "journal", "income", "gaap",
                     "analysis", "cost-sheet", "queue", "kpis"]
MONTHLY = ("income", "gaap", "analysis")
Period = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2026-11"])]


def month(value: str, field: str) -> tuple[date, date]:
    try:
        return period_bounds(value)
    except NumberError as exc:
        raise ApiError(422, "invalid", f"{field}: {exc}", field=field) from None


@router.get("/reports/bom-accuracy", tags=["reports"], response_model=list[m.BomFinding],
            summary="BOM lines estimated from the counts")
def bom_accuracy(who: Caller = caller(Access.VIEWER),
                 period: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$",
                                                     description="A month, YYYY-MM")] = None,
                 start: Annotated[date | None, Query(alias="from")] = None,
                 end: Annotated[date | None, Query(alias="to")] = None,
                 tolerance: Annotated[str | None, Query(
                     description="flag beyond this share of the standard usage (0.05); "
                     "default: the policy's count_tolerance")] = None) -> list[m.BomFinding]:
    """Every BOM line consuming a counted component: its usage per unit estimated by least
    squares over the count intervals, the residual, how many intervals it rests on, flagged
    beyond the tolerance with a suggested quantity per, and why (docs/accounting.md)."""
    from backflush.entrypoints.output.accuracy import accuracy_json
    from backflush.service_layer.accuracy import bom_accuracy as estimate

    if period is not None and (start is not None or end is not None):
        raise ApiError(422, "invalid", "give period or from/to, not both", field="period")
    first, last = month(period, "period") if period is not None else (start, end)
    if first is not None and last is not None and first > last:
        raise ApiError(422, "invalid", f"from {first} is after to {last}", field="from")
    share = None
    if tolerance is not None:
        try:
            share = to_decimal(tolerance, "tolerance")
        except NumberError as exc:
            raise ApiError(422, "invalid", f"tolerance: {exc}", field="tolerance") from None
        if not 0 <= share <= 1:
            raise ApiError(422, "invalid", "tolerance: must be from 0 to 1",
                           field="tolerance")

    def use(uow: UnitOfWork) -> list[m.BomFinding]:
        found = estimate(uow, Window(first, last), share)
        return [m.BomFinding(**row) for row in accuracy_json(found)]

    return deps.read(who.ledger, use)


@router.get("/reports/{name}", tags=["reports"], response_model=m.ReportOut,
            summary="A report, as the CLI prints it")
def report(name: ReportName, who: Caller = caller(Access.VIEWER),
           period: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$",
                                               description="A month, YYYY-MM")] = None,
           start: Annotated[date | None, Query(alias="from")] = None,
           end: Annotated[date | None, Query(alias="to")] = None,
           by: Annotated[Literal["item", "supplier", "work-center", "event"] | None,
                         Query(description="variances only")] = None) -> m.ReportOut:
    """`trial-balance`, `journal`, `variances` (by `item`, `supplier`, `work-center` or
    `event`) and `kpis` over a month (`period`) or days (`from`, `to`); `income`, `gaap`
    and `analysis` of a month (default: the latest closed); `stock`, `cost-sheet` and
    `queue` now."""
    from backflush.entrypoints.output.reports import report as build
    from backflush.service_layer.periods import closed_periods

    if period is not None and (start is not None or end is not None):
        raise ApiError(422, "invalid", "give a month (period) or days (from, to), not both",
                       field="period")
    if start and end and start > end:
        raise ApiError(422, "invalid", f"from {start} is after to {end}", field="from")
    if by is not None and name != "variances":
        raise ApiError(422, "invalid", "only the variances report is broken down", field="by")
    window = Window(*month(period, "period")) if period else Window(start, end)
    if name in MONTHLY and (start is not None or end is not None):
        raise ApiError(422, "invalid", f"the {name} report is of a month: give period",
                       field="period")

    def use(uow: UnitOfWork) -> m.ReportOut:
        chosen = period
        if name in MONTHLY and chosen is None:
            closed = closed_periods(uow)
            if not closed:
                raise ApiError(422, "invalid", f"no period is closed yet: give the month of "
                               f"the {name} report", field="period")
            chosen = closed[-1]
        return convert.report(build(uow, name, window, by, chosen))

    return deps.read(who.ledger, use)


@router.get("/queue", tags=["shop floor"], response_model=list[m.QueueItem],
            summary="The pending queue")
def queue(who: Caller = caller(Access.VIEWER)) -> list[m.QueueItem]:
    """Issues completions could not take from stock, oldest first at each place, then the
    completions held unposted (``failed_backflush: hold``) with the reason."""
    from backflush.service_layer.queue import queue as whole_queue

    def use(uow: UnitOfWork) -> list[m.QueueItem]:
        return [m.QueueItem.of(p) for p in whole_queue(uow)]

    return deps.read(who.ledger, use)


@router.get("/alerts", tags=["shop floor"], response_model=list[m.AlertOut],
            summary="Alerts raised by events")
def alerts(who: Caller = caller(Access.VIEWER),
           event: Annotated[str | None, Query(max_length=200)] = None,
           open: Annotated[bool, Query(description="only those not acknowledged")] = False,
           ) -> list[m.AlertOut]:
    """Every alert, oldest first (`open=true`: those not yet acknowledged)."""
    return deps.read(who.ledger, lambda uow: [alert_out(a) for a in uow.events.stored_alerts(
        open_only=open, event_id=event)])


@router.post("/alerts/{alert}/acknowledge", tags=["shop floor"], response_model=m.AlertOut,
             summary="Acknowledge an alert", responses=responses(404))
def acknowledge(alert: Annotated[int, Path(ge=1, le=2**62)], body: m.AcknowledgeIn | None = None,
                who: Caller = caller(Access.OPERATOR)) -> m.AlertOut:
    """Mark an alert as seen: who (`by`, default the token's name), when and why (`note`).
    Acknowledging it again changes nothing and answers the first acknowledgement."""
    from backflush.service_layer.alerts import UnknownAlerts, acknowledge_alerts

    given = body or m.AcknowledgeIn()
    try:
        done = deps.write(who, lambda: acknowledge_alerts(
            who.ledger.unit_of_work(), [alert], given.by or who.token.name, given.note))
    except UnknownAlerts:
        raise ApiError(404, "not_found", f"this ledger has no alert numbered {alert}",
                       field="alert") from None
    return alert_out(done.alerts[0])


def alert_out(a: StoredAlert) -> m.AlertOut:
    return m.AlertOut(id=a.id, date=a.date.isoformat() if a.date else None, event=a.event_id,
                      code=a.code, message=a.message, acknowledged_by=a.acknowledged_by,
                      acknowledged_on=a.acknowledged_on, note=a.note)


@router.get("/periods", tags=["periods"], response_model=m.PeriodsOut,
            summary="The ledger's first day and closed periods")
def periods(who: Caller = caller(Access.VIEWER)) -> m.PeriodsOut:
    from backflush.service_layer.periods import closed_periods

    def use(uow: UnitOfWork) -> m.PeriodsOut:
        locked = uow.master.locked_through()
        return m.PeriodsOut(
            opened_on=uow.master.opened_on().isoformat(),
            locked_through=locked.isoformat() if locked else None,
            closed=[m.PeriodOut(period=p, closed_by=uow.master.closed_by(p) or "")
                    for p in closed_periods(uow)])

    return deps.read(who.ledger, use)


@router.post("/periods/{period}/close", tags=["periods"], status_code=201,
             response_model=m.EventOut, summary="Close a period",
             responses=responses(400))
def close(period: Period, body: m.CloseIn, who: Caller = caller(Access.ACCOUNTANT)
          ) -> m.EventOut:
    """Dispose of the period's variances and lock it (refused while issues are pending or
    stock is below zero at its end, unless `force`); with `gaap_bridge`, the GAAP bridge
    at its end, reversed the next day."""
    from backflush.service_layer.closing import close_event

    month(period, "period")
    if body.nrv and not body.gaap_bridge:
        raise ApiError(422, "invalid", "net realisable values are used by the GAAP bridge: "
                       "set gaap_bridge", field="nrv")
    try:
        nrv = tuple((item, to_decimal(v, "nrv", PRICE)) for item, v in body.nrv.items())
    except NumberError as exc:
        raise ApiError(422, "invalid", str(exc), field="nrv") from None
    return _post(who, lambda uow: close_event(uow, period, force=body.force,
                                              gaap_bridge=body.gaap_bridge, nrv=nrv))


@router.post("/periods/{period}/reopen", tags=["periods"], status_code=201,
             response_model=m.EventOut, summary="Reopen the latest closed period",
             responses=responses(400))
def reopen(period: Period, body: m.ReopenIn, who: Caller = caller(Access.ACCOUNTANT)
           ) -> m.EventOut:
    from backflush.service_layer.closing import reopen_event

    month(period, "period")
    return _post(who, lambda uow: reopen_event(uow, period, body.reason, body.by))


def _post(who: Caller, make: Callable[[UnitOfWork], Event]) -> m.EventOut:
    from backflush.service_layer.batch import Located

    return deps.post(who, lambda uow: Located(make(uow)))[0]

