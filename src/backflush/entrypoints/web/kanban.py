"""The kanban board page: each supermarket item's on hand, the demand of the released
orders, its open signals and what to replenish, with a form to send the cards (operators
and up) and the loop sizing beside it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from backflush.domain.errors import BackflushError
from backflush.domain.events import Signal
from backflush.domain.numbers import fmt_qty
from backflush.entrypoints.output import kanban as shown
from backflush.entrypoints.web.auth import check_csrf, form
from backflush.entrypoints.web.auth import user as page_user
from backflush.entrypoints.web.pages import read, show, table
from backflush.service_layer import kanban
from backflush.service_layer.access import Access
from backflush.service_layer.replenishing import send_signals
from backflush.service_layer.unit_of_work import UnitOfWork, with_retries

router = APIRouter(include_in_schema=False)


def _board(uow: UnitOfWork) -> dict[str, Any]:
    lines = kanban.kanban(uow)
    signals = [{"id": s.source, "item": s.item, "location": s.location,
                "qty": fmt_qty(s.qty)} for s in kanban.signal_list(uow)]
    rows = [{"item": ln.item, "location": ln.location, "on_hand": fmt_qty(ln.on_hand),
             "demand": fmt_qty(ln.demand), "open_signals": fmt_qty(ln.open_signals),
             "replenish_qty": fmt_qty(ln.replenish_qty), "containers": ln.containers,
             "container_qty": fmt_qty(ln.container_qty)} for ln in lines]
    return {"lines": rows, "signals": signals,
            "short": sum(1 for ln in lines if ln.containers),
            "sizing": table(shown.sizing(kanban.sizing_report(uow)))}


@router.get("/ui/{ledger}/kanban")
def board(request: Request, ledger: str) -> Response:
    u = page_user(request, ledger)
    return show(request, u, "kanban.html", csrf=u.session.csrf,
                may_signal=u.may(Access.OPERATOR), sent=None, error=None, **read(u, _board))


@router.post("/ui/{ledger}/kanban")
async def signal(request: Request, ledger: str) -> Response:
    u = page_user(request, ledger)
    check_csrf(await form(request), u)
    u.need(Access.OPERATOR, "sending kanban signals")

    def post() -> list[Signal]:  # in a worker thread, on the ledger's write lock
        with request.app.state.writing[ledger]:
            return with_retries(lambda: send_signals(u.ledger.unit_of_work()), deadline=10.0)

    sent, error, status = None, None, 200
    try:
        sent = await run_in_threadpool(post)
    except BackflushError as exc:
        error, status = str(exc), 409
    return show(request, u, "kanban.html", status, csrf=u.session.csrf,
                may_signal=u.may(Access.OPERATOR), sent=sent, error=error, **read(u, _board))
