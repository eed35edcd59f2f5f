"""The pages for cost accountants, served by ``backflush serve`` beside the API under
``/ui``: server-rendered HTML (Jinja2), no script, a login with the API's tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from backflush.entrypoints.web import auth, items, kanban, pages
from backflush.entrypoints.web.sessions import Sessions

STYLE = (Path(__file__).parent / "static" / "app.css").read_bytes()


def install(app: FastAPI) -> None:
    """Add the pages, their sessions and their error pages to the API's application (after
    the API's handlers: a bad query or an unknown path under ``/ui`` gets a page, not a
    problem document)."""
    app.state.sessions = Sessions()
    for kind in (RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(items.router)
    app.include_router(kanban.router)
    app.add_exception_handler(auth.LoginNeeded, auth.login_needed)
    app.add_exception_handler(auth.PageError, auth.page_error)

    @app.get("/ui/static/app.css", include_in_schema=False)
    def style() -> Response:
        return Response(STYLE, media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})


Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def _as_page(api: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/ui"):
            answer = api(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer
        if isinstance(exc, StarletteHTTPException):
            status = exc.status_code
            message = "no such page" if status == 404 else str(exc.detail)
        else:
            status, message = 422, "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', 'invalid')}"
                for e in exc.errors())  # type: ignore[attr-defined]
        return auth.render(request, "error.html", status, user=None, code=status,
                           message=message)

    return handle
