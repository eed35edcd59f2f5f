"""The pages for cost accountants, served by ``backflush serve`` beside the API under
``/ui``: server-rendered HTML (Jinja2), no script, a login with the API's tokens."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

from backflush.entrypoints.web import auth, pages
from backflush.entrypoints.web.sessions import Sessions

STYLE = (Path(__file__).parent / "static" / "app.css").read_bytes()


def install(app: FastAPI) -> None:
    """Add the pages, their sessions and their error pages to the API's application."""
    app.state.sessions = Sessions()
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.add_exception_handler(auth.LoginNeeded, auth.login_needed)
    app.add_exception_handler(auth.PageError, auth.page_error)

    @app.get("/ui/static/app.css", include_in_schema=False)
    def style() -> Response:
        return Response(STYLE, media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})
