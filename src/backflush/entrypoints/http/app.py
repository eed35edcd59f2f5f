"""The HTTP API's application: routes under ``/api/v1/ledgers/{ledger}``, one error
shape, the OpenAPI document with the event models of the files, and a structured log line
per request."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from backflush import __version__
from backflush.bootstrap import Ledger
from backflush.domain.errors import BackflushError
from backflush.entrypoints import web
from backflush.entrypoints.http import events, floor, master, problems, reading
from backflush.entrypoints.http import suitability as suitability_routes
from backflush.entrypoints.http.deps import bearer
from backflush.service_layer.access import IdempotencyConflict

PREFIX = "/api/v1/ledgers/{ledger}"
access_log = logging.getLogger("backflush.http.requests")

DESCRIPTION = """Post a plant's events (one, or thousands at once) and read its books.

* **Authentication**: `Authorization: Bearer TOKEN`; tokens are made with `backflush token
  create --role ROLE` (viewer, operator, accountant, admin: each may do what the ones before
  it may).
* **Idempotency**: an event's `id` is its idempotency key; a batch may carry an
  `Idempotency-Key` header. A retry gets the original answer with `Idempotent-Replayed:
  true`; the same id or key with other content is a 409.
* **Decimals** are strings (`"1448.39"`), never JSON numbers; an exact JSON number is read
  as the decimal it spells, never as a binary float.
* **Errors** are RFC 9457 `application/problem+json` with `code`, `field` and `entry`.
* **Lists** are paginated by cursor: pass `next` as `after`.
"""


def create_app(ledgers: Mapping[str, Ledger]) -> FastAPI:
    """The API over ``ledgers`` (name in the URL: ledger). The caller owns the ledgers
    (and closes them)."""
    app = FastAPI(title="backflush", version=__version__, description=DESCRIPTION,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.ledgers = dict(ledgers)
    app.state.writing = {name: threading.Lock() for name in ledgers}
    # (suitability before reading: /reports/{name} would take /reports/suitability)
    for router in (events.router, suitability_routes.router, reading.router, master.router,
                   floor.router):
        app.include_router(router, prefix=PREFIX)
    app.add_exception_handler(BackflushError, problems.engine_error)
    app.add_exception_handler(IdempotencyConflict, problems.engine_error)
    app.add_exception_handler(problems.ApiError, problems.engine_error)
    app.add_exception_handler(StarletteHTTPException, problems.http_error)
    app.add_exception_handler(RequestValidationError, problems.request_invalid)
    app.add_exception_handler(Exception, problems.engine_error)
    web.install(app)

    @app.get("/api/v1/health", tags=["server"], summary="Is the server up")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.middleware("http")
    async def log_request(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-Id"] = rid[:64]
            return response
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(json.dumps({
                    "request": rid[:64], "method": request.method, "path": request.url.path,
                    "status": status, "ms": round((time.perf_counter() - start) * 1000, 2),
                    "token": getattr(request.state, "token", None),
                    "ledger": request.path_params.get("ledger")}))

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the event models of the files (``Event``, a union on
    ``type``) and the ledgers this server serves."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    from backflush.adapters.files.schemas import EVENTS

    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    event = EVENTS.json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(event.pop("$defs", {}))
    schemas["Event"] = event
    schemas.setdefault("ProblemDoc", problems.ProblemDoc.model_json_schema(
        ref_template="#/components/schemas/{model}"))
    for name, part in problems.ProblemDoc.model_json_schema(
            ref_template="#/components/schemas/{model}").get("$defs", {}).items():
        schemas.setdefault(name, part)
    names = sorted(app.state.ledgers)
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            for param in operation.get("parameters", []):
                if param.get("name") == "ledger" and param.get("in") == "path":
                    param["schema"] = {"type": "string", "enum": names}
    app.openapi_schema = doc
    return doc


__all__ = ["bearer", "create_app"]
