"""Closing and reopening a period as a user asks for it: the close and reopen events, with
their ids, made here for the CLI and the HTTP API alike (the rules that post them are in
:mod:`backflush.domain.rules.close`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from backflush.domain.errors import PostingError
from backflush.domain.events import Close, Reopen, period_bounds
from backflush.service_layer.unit_of_work import UnitOfWork


def fresh_id(uow: UnitOfWork, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... the first id no event has (a period closed,
    reopened and closed again has a close event for each time)."""
    ident, n = base, 1
    while uow.events.get(ident) is not None:
        n += 1
        ident = f"{base}-{n}"
    return ident


def close_event(uow: UnitOfWork, period: str, *, force: bool = False,
                gaap_bridge: bool = False,
                nrv: tuple[tuple[str, Decimal], ...] = ()) -> Close:
    """The close of ``period`` to post (refused when it is closed already). Reads the
    caller's transaction."""
    _, end = period_bounds(period)
    locked = uow.master.locked_through()
    ident = fresh_id(uow, f"close-{period}")
    if locked is not None and locked >= end:
        raise PostingError(ident, f"{period} is already closed (the ledger is closed "
                           f"through {locked}); reopen it first: backflush reopen "
                           f"{period} --reason TEXT (over HTTP: POST "
                           f"/periods/{period}/reopen)", "period")
    return Close(id=ident, date=end, period=period, force=force, gaap_bridge=gaap_bridge,
                 nrv=nrv)


def reopen_event(uow: UnitOfWork, period: str, reason: str, by: str) -> Reopen:
    """The reopening of ``period`` to post, dated the day after it ends."""
    _, end = period_bounds(period)
    return Reopen(id=fresh_id(uow, f"reopen-{period}"), date=end + timedelta(days=1),
                  period=period, reason=reason, by=by)
