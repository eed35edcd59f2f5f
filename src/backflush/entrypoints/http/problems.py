"""Every error of the API in one shape: RFC 9457 ``application/problem+json``.

A problem has the RFC's members (``type``, ``title``, ``status``, ``detail``) and the
project's: ``code`` (stable, for programs), ``field`` (the field at fault), ``entry`` (the
event or row, ``events[3] (WO-9)``), ``id`` (an event id or idempotency key concerned) and
``problems`` (every problem found, when input had several). ``type`` is
``urn:backflush:problem:<code>``; docs/api.md lists the codes.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from backflush.domain.errors import (
    BackflushError,
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
from backflush.service_layer.access import IdempotencyConflict

MEDIA = "application/problem+json"
log = logging.getLogger("backflush.http")


class ProblemItem(BaseModel):
    entry: str
    field: str | None = None
    message: str
    line: int | None = None


class ProblemDoc(BaseModel):
    """An RFC 9457 problem, with the project's members."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    entry: str | None = None
    id: str | None = None
    fields: list[str] | None = None
    problems: list[ProblemItem] | None = None


TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 406: "Not acceptable", 409: "Conflict",
    413: "Request too large", 415: "Unsupported media type", 422: "Unprocessable content",
    500: "Internal server error", 503: "Service unavailable",
}


class ApiError(Exception):
    """An error the API raises itself (not an engine error): a status, a code, a message."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field
        self.headers = headers or {}


def problem(status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
            **members: Any) -> Response:
    doc = ProblemDoc(type=f"urn:backflush:problem:{code}", title=TITLES.get(status, "Error"),
                     status=status, detail=detail, code=code, **members)
    return Response(doc.model_dump_json(exclude_none=True), status, headers=headers,
                    media_type=MEDIA)


def _items(problems: tuple[Problem, ...]) -> list[ProblemItem]:
    return [ProblemItem(entry=p.entry, field=p.field, message=p.message, line=p.line)
            for p in problems]


def of_error(exc: BaseException) -> Response:
    """The problem for an exception the engine or the API raised."""
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.code, exc.detail, field=exc.field, headers=exc.headers)
    if isinstance(exc, IdempotencyConflict):
        return problem(409, "idempotency_conflict", str(exc), field="Idempotency-Key",
                       id=exc.key)
    if isinstance(exc, ValidationError):
        first = exc.problems[0] if exc.problems else None
        more = f" (and {exc.more} more)" if exc.more else ""
        count = len(exc.problems) + exc.more
        detail = (f"{count} problem{'s' if count != 1 else ''} found{more}; nothing was posted"
                  if count != 1 or first is None else f"{first}; nothing was posted")
        return problem(422, "invalid", detail, field=first.field if first else None,
                       entry=first.entry if first else None, problems=_items(exc.problems))
    if isinstance(exc, DuplicateEventError):
        p = exc.problem
        return problem(409, "id_conflict", f"{exc}; nothing was posted",
                       field=exc.fields[0] if exc.fields else "id", fields=list(exc.fields),
                       entry=p.entry, id=exc.event_id, problems=_items((p,)))
    if isinstance(exc, PostingError):
        p = exc.problem
        code, status = ("period_locked", 409) if isinstance(exc, PeriodLockedError) else (
            ("negative_stock", 409) if isinstance(exc, NegativeStockError) else
            ("refused", 422))
        return problem(status, code, f"{exc}; nothing was posted", field=exc.field,
                       entry=p.entry, id=exc.event_id, problems=_items((p,)))
    if isinstance(exc, NumberError):
        return problem(422, "invalid", str(exc), field=exc.field)
    if isinstance(exc, ConcurrencyError):
        return problem(503, "busy", f"{exc}; nothing was kept: send the request again",
                       headers={"Retry-After": "1"})
    if isinstance(exc, StorageError):
        return problem(503, "storage", f"the database failed: {exc}; nothing was kept")
    if isinstance(exc, LedgerError):
        return problem(409, "ledger", str(exc))
    if isinstance(exc, BackflushError):
        return problem(422, "refused", str(exc))
    log.error("unexpected error", exc_info=exc)
    return problem(500, "internal", "the server failed; nothing of the request was kept "
                   "(the server's log has the details)")


async def engine_error(request: Request, exc: Exception) -> Response:
    return of_error(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http")
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "error")
    return problem(status, code, detail, headers=dict(exc.headers or {}))


async def request_invalid(request: Request, exc: Exception) -> Response:
    """A query or path parameter FastAPI could not read (bodies are read by the project's
    own readers)."""
    assert isinstance(exc, RequestValidationError)
    items = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "header")]
        items.append(ProblemItem(entry="request", field=".".join(loc) or None,
                                 message=str(err.get("msg", "invalid"))))
    first = items[0] if items else None
    return problem(422, "invalid", "; ".join(f"{i.field}: {i.message}" if i.field else
                                              i.message for i in items) or "invalid request",
                   field=first.field if first else None, entry="request", problems=items)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of problems with these statuses."""
    return {status: {"description": TITLES[status],
                     "content": {MEDIA: {"schema": {"$ref": "#/components/schemas/ProblemDoc"}}}}
            for status in statuses}


#: What any route may answer (a route with a body adds :data:`BODY_RESPONSES`).
PROBLEM_RESPONSES = responses(401, 403, 404, 409, 422, 503)
#: A body that is not JSON (400), too large (413) or of another media type (415).
BODY_RESPONSES = responses(400, 413, 415)
