"""The pages' login, logout and the check every page makes: a session of this ledger whose
token is still in use, with the role the page needs; CSRF on every form."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backflush import __version__
from backflush.bootstrap import Ledger
from backflush.entrypoints.web.sessions import COOKIE, LOGIN_COOKIE, Session, Sessions, same
from backflush.service_layer.access import Access, authenticate, digest, in_use, refusal
from backflush.service_layer.ports import Token

router = APIRouter(include_in_schema=False)
templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True), trim_blocks=True,
                        lstrip_blocks=True)
MAX_FORM_BYTES = 20_000

# Pages hold nothing from elsewhere: no script, no frame, forms to this server only.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginNeeded(Exception):
    """No session of this ledger (or its token was revoked): the login page, then back."""

    def __init__(self, ledger: str | None, back: str) -> None:
        super().__init__(ledger)
        self.ledger, self.back = ledger, back


class PageError(Exception):
    """A page that cannot be shown as asked (403, 404, 422): an error page saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class User:
    """Who looks, at which ledger, with which role."""

    name: str  # the ledger's name in the URL
    ledger: Ledger
    token: Token
    session: Session

    @property
    def access(self) -> Access:
        return Access.named(self.token.role)

    def may(self, role: Access) -> bool:
        return self.access >= role

    def need(self, role: Access, what: str) -> None:
        refused = refusal(self.token, role, what)
        if refused is not None:
            raise PageError(403, refused)


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def ledgers(request: Request) -> dict[str, Ledger]:
    found: dict[str, Ledger] = request.app.state.ledgers
    return found


def user(request: Request, ledger: str) -> User:
    """The user of this request (raises :class:`LoginNeeded` without a session)."""
    book = ledgers(request).get(ledger)
    if book is None:
        raise PageError(404, f"no ledger is named {ledger!r} here")
    session = sessions(request).get(request.cookies.get(COOKIE))
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None or session.ledger != ledger:
        raise LoginNeeded(ledger, back)
    with book.unit_of_work(read_only=True) as uow:
        token = in_use(uow, session.digest)
    if token is None:
        sessions(request).close(session.id)
        raise LoginNeeded(ledger, back)
    request.state.token = token.id  # for the request log
    return User(ledger, book, token, session)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = templates.get_template(name).render(version=__version__, **context)
    return HTMLResponse(body, status, headers=HEADERS)


async def form(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each), bounded in size."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageError(413, "the form is too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def check_csrf(fields: dict[str, str], u: User) -> None:
    if not same(fields.get("csrf"), u.session.csrf):
        raise PageError(403, "the form is stale or came from another site (its CSRF token "
                        "does not match your session); reload the page and try again")


def _safe_back(back: str | None, ledger: str) -> str:
    """Where to go after logging in: a page of this ledger only (never another site)."""
    home = f"/ui/{quote(ledger)}/"
    return back if back and back.startswith(home) and "//" not in back else home


def _login_page(request: Request, status: int = 200, *, ledger: str | None = None,
                back: str | None = None, error: str | None = None) -> HTMLResponse:
    csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    page = render(request, "login.html", status, ledgers=sorted(ledgers(request)),
                  chosen=ledger, back=back or "", error=error, csrf=csrf, user=None)
    page.set_cookie(LOGIN_COOKIE, csrf, httponly=True, samesite="strict", path="/ui")
    return page


@router.get("/ui/login")
def login_page(request: Request, ledger: str | None = None,
               back: str | None = None) -> HTMLResponse:
    return _login_page(request, ledger=ledger, back=back)


@router.post("/ui/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    name, back = fields.get("ledger", ""), fields.get("back") or None
    if not same(fields.get("csrf"), request.cookies.get(LOGIN_COOKIE) or "\0"):
        return _login_page(request, 403, ledger=name, back=back,
                           error="The login form was stale; it has been renewed: log in again.")
    book = ledgers(request).get(name)
    if book is None:
        return _login_page(request, 422, back=back, error="Choose a ledger.")
    secret = fields.get("token", "").strip()
    with book.unit_of_work(read_only=True) as uow:
        token = authenticate(uow, secret)
    if token is None:
        return _login_page(request, 401, ledger=name, back=back,
                           error="That token is unknown or revoked for this ledger.")
    session = sessions(request).open(name, digest(secret))
    answer = RedirectResponse(_safe_back(back, name), 303, headers=HEADERS)
    answer.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/ui")
    answer.delete_cookie(LOGIN_COOKIE, path="/ui")
    return answer


@router.post("/ui/{ledger}/logout")
async def logout(request: Request, ledger: str) -> Response:
    u = user(request, ledger)
    check_csrf(await form(request), u)
    sessions(request).close(u.session.id)
    answer = RedirectResponse(f"/ui/login?ledger={quote(ledger)}", 303, headers=HEADERS)
    answer.delete_cookie(COOKIE, path="/ui")
    return answer


async def login_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginNeeded)
    if request.method != "GET":
        return render(request, "error.html", 401, user=None, code=401,
                      message="Your session has ended; log in again.")
    target = "/ui/login" + (f"?ledger={quote(exc.ledger)}&back={quote(exc.back)}"
                            if exc.ledger else "")
    return RedirectResponse(target, 303, headers=HEADERS)


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(request, "error.html", exc.status, user=None, code=exc.status,
                  message=exc.message)
