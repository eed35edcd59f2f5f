"""What every route needs: the ledger its URL names, the caller's token and role, the
request's body read within bounds, and a use case run in a worker thread with retries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from backflush.adapters.files.loaders import load_json
from backflush.bootstrap import Ledger
from backflush.domain.errors import ValidationError
from backflush.entrypoints.http import convert
from backflush.entrypoints.http.models import EventOut
from backflush.entrypoints.http.problems import ApiError
from backflush.service_layer.access import Access, authenticate, refusal
from backflush.service_layer.batch import Located
from backflush.service_layer.ports import Token
from backflush.service_layer.posting import post_one
from backflush.service_layer.unit_of_work import UnitOfWork, with_retries

T = TypeVar("T")

MAX_EVENT_BYTES = 1_000_000  # one event
MAX_BATCH_BYTES = 500_000_000  # a batch, as sent (JSON Lines are streamed to a file)
MAX_EACH_BYTES = 50_000_000  # a batch posted event by event (read whole)
RETRY_SECONDS = 10.0  # how long a write is retried after concurrent updates
JSONL = ("application/x-ndjson", "application/jsonl", "application/json-lines")

bearer = HTTPBearer(auto_error=False, description="An API token: backflush token create")


@dataclass(frozen=True)
class Caller:
    """Who asks, of which ledger."""

    name: str  # the ledger's name in the URL
    ledger: Ledger
    token: Token
    writing: threading.Lock  # held by this process's one writer to the ledger

    @property
    def access(self) -> Access:
        return Access.named(self.token.role)

    def need(self, role: Access, what: str) -> None:
        refused = refusal(self.token, role, what)
        if refused is not None:
            raise ApiError(403, "forbidden", refused)


def ledgers_of(request: Request) -> Mapping[str, Ledger]:
    found: Mapping[str, Ledger] = request.app.state.ledgers
    return found


def ledger_named(request: Request, name: str) -> Ledger:
    ledger = ledgers_of(request).get(name)
    if ledger is None:
        raise ApiError(404, "not_found", f"this server serves no ledger named {name!r}")
    return ledger


def caller(role: Access) -> Any:
    """A dependency: the caller, who must hold ``role`` (401 without a token in use, 403
    with a lesser role)."""

    def check(request: Request, ledger: str,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
              ) -> Caller:
        book = ledger_named(request, ledger)
        challenge = {"WWW-Authenticate": 'Bearer realm="backflush"'}
        if credentials is None:
            raise ApiError(401, "unauthorized", "send an API token: Authorization: Bearer "
                           "TOKEN (make one with backflush token create)", headers=challenge)
        token = read(book, lambda uow: authenticate(uow, credentials.credentials))
        if token is None:
            raise ApiError(401, "unauthorized", "the token is unknown or revoked",
                           headers=challenge)
        request.state.token = token.id  # for the request log (never the secret)
        who = Caller(ledger, book, token, request.app.state.writing[ledger])
        who.need(role, "this request")
        return who

    return Depends(check)


def read(ledger: Ledger, use: Callable[[UnitOfWork], T]) -> T:
    with ledger.unit_of_work(read_only=True) as uow:
        return use(uow)


def write(who: Caller, use: Callable[[], T]) -> T:
    """A write use case on the caller's ledger, run again after concurrent updates for up
    to :data:`RETRY_SECONDS` (then 503: nothing was kept).

    The server's writers to one ledger take turns on a lock: the database would make them
    wait anyway, and on SQLite its busy handler sleeps and polls, which took the 99th
    percentile of 8 clients posting at once from about 0.1 s to over 1 s
    (``bench/bench_api.py``). Other processes still wait on the database."""
    with who.writing:
        return with_retries(use, deadline=RETRY_SECONDS)


def post(who: Caller, read: Callable[[UnitOfWork], Located]) -> tuple[EventOut, bool]:
    """Post the event ``read`` makes, as :func:`write` does: the event as stored with its
    entries (amounts in the currency's places, read in the same transaction), and whether
    it was a replay."""
    minor = 0

    def located(uow: UnitOfWork) -> Located:
        nonlocal minor
        minor = uow.master.policy().minor_unit
        return read(uow)

    posted = write(who, lambda: post_one(who.ledger.unit_of_work(), located))
    return convert.event(posted.stored, posted.entries, minor), posted.replayed


def unplaced(exc: ValidationError) -> ValidationError:
    """The problems of a body spooled to a file, without the file's name (a place on the
    server the client does not know)."""
    return ValidationError([replace(p, source=None) for p in exc.problems], exc.more)


async def threaded(use: Callable[[], T]) -> T:
    return await run_in_threadpool(use)


async def body(request: Request, limit: int) -> bytes:
    """The body, refused beyond ``limit`` bytes (413) before more of it is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the request body may be at most {limit:,} bytes")


def media(request: Request, allowed: tuple[str, ...]) -> str:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    kind = kind.lower() or "application/json"
    if kind not in allowed:
        raise ApiError(415, "unsupported_media_type", f"expected a body of type "
                       f"{' or '.join(allowed)}, got {kind}")
    return kind


def json_body(data: bytes) -> Any:
    """A JSON body read by the files' own JSON reader: numbers as exact decimals, duplicate
    keys and bad UTF-8 refused with the place."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "malformed", f"the body is not UTF-8 (byte {exc.start + 1})") \
            from None
    return load_json(text, "request body", "body")


async def spooled(request: Request, suffix: str, limit: int) -> tuple[Path, str]:
    """The body streamed to a temporary file (deleted by the caller) and its SHA-256."""
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix="backflush-batch-", suffix=suffix)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                digest.update(chunk)
                fh.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name), digest.hexdigest()


def cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def after(token: str | None, kind: type[T]) -> T | None:
    """The key a cursor stands for (422 when it is not one of ours)."""
    if token is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, kind) or isinstance(key, bool):
        raise ApiError(422, "invalid", "the cursor is not one this server gave",
                       field="after")
    return key
