"""Who may use a ledger over HTTP: API tokens and their roles, and idempotent requests.

A token is ``bf_`` and 43 random URL-safe characters (256 bits), shown once when it is made;
the ledger keeps its SHA-256 (a secret of that entropy needs no slow hash), a public id
(``tok_`` and 8 hex digits), a name and a role. Roles are ranked, each allowed what the ones
before it are:

* ``viewer``: read master data, events, the journal and every report;
* ``operator``: post events (completions, receipts, sales, counts...);
* ``accountant``: master data, standards and rates, close and reopen;
* ``admin``: make, list and revoke tokens.

An idempotent request (a batch sent with an ``Idempotency-Key``) keeps its response in the
same transaction as what it posted: the same key and content again gets that response back,
the same key with other content is refused (:class:`IdempotencyConflict`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from backflush.domain import text
from backflush.domain.errors import BackflushError, Problem, ValidationError
from backflush.service_layer.ports import SavedResponse, Token
from backflush.service_layer.unit_of_work import UnitOfWork

PREFIX = "bf_"


class Access(IntEnum):
    """A token's role, ranked: each may do what the roles before it may."""

    VIEWER = 1
    OPERATOR = 2
    ACCOUNTANT = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, name: str) -> Access:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValidationError([Problem("token", "role", f"unknown role {text.safe(name)}; "
                                           f"expected one of {', '.join(ROLES)}")]) from None


ROLES = tuple(a.label for a in Access)

# Events that change standards, rates or periods: an accountant's, not an operator's.
ACCOUNTANT_EVENTS = frozenset({"close", "reopen", "cost_change", "rate_change"})


def refusal(token: Token, role: Access, what: str) -> str | None:
    """Why ``token`` may not do ``what``, which needs ``role`` (None: it may)."""
    if Access.named(token.role) >= role:
        return None
    return (f"{what} needs the {role.label} role; the token {text.safe(token.name)} "
            f"({token.id}) has the {token.role} role")


def needed_to_post(event_type: str) -> Access:
    return Access.ACCOUNTANT if event_type in ACCOUNTANT_EVENTS else Access.OPERATOR


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Made:
    token: Token
    secret: str  # shown once: the ledger keeps only its digest


def create_token(uow: UnitOfWork, role: str, name: str | None = None,
                 now: datetime | None = None) -> Made:
    """A new token of ``role`` (named ``name``, else after its role and id)."""
    access = Access.named(role)
    token_id = "tok_" + secrets.token_hex(4)
    label = text.code(name, "token name") if name is not None else f"{access.label}-{token_id[4:]}"
    secret = PREFIX + secrets.token_urlsafe(32)
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    token = Token(token_id, label, access.label, digest(secret), when)
    with uow:
        if any(t.name == label and not t.revoked for t in uow.access.tokens()):
            raise ValidationError([Problem("token", "name", f"a token named {label} is in "
                                           "use; revoke it first or choose another name")])
        uow.access.add_token(token)
        uow.commit()
    return Made(token, secret)


def list_tokens(uow: UnitOfWork) -> list[Token]:
    with uow:
        return uow.access.tokens()


def revoke_token(uow: UnitOfWork, key: str) -> Token:
    """Revoke the token whose id or name is ``key`` (a revoked token is refused from then
    on; it stays listed)."""
    with uow:
        found = [t for t in uow.access.tokens() if key in (t.id, t.name) and not t.revoked]
        if not found:
            raise ValidationError([Problem("token", "id", f"no token in use has the id or "
                                           f"name {text.safe(key)}")])
        for token in found:
            uow.access.revoke(token.id)
        uow.commit()
    return found[0]


def authenticate(uow: UnitOfWork, secret: str) -> Token | None:
    """The token in use whose secret this is (None: unknown or revoked). Reads the caller's
    transaction."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    return in_use(uow, digest(secret))


def in_use(uow: UnitOfWork, hashed: str) -> Token | None:
    """The token in use whose secret hashes to ``hashed`` (None: unknown or revoked)."""
    token = uow.access.token(hashed)
    return None if token is None or token.revoked else token


class IdempotencyConflict(BackflushError):
    """The idempotency key was used before for a request of other content."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"the Idempotency-Key {text.safe(key)} was used before for a "
                         "request of other content; use a new key for a new request")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    replayed: bool = False


def once(uow: UnitOfWork, key: str | None, fingerprint: str,
         run: Callable[[UnitOfWork], Answer]) -> Answer:
    """``run`` in one transaction, committed; with a ``key``, its answer is kept with what
    it posted and given back, unrun, when the same key and ``fingerprint`` come again. An
    answer of 400 or more is not kept (nothing was posted: the client may correct the
    request and send it again under the same key)."""
    with uow:
        if key is not None:
            saved = uow.access.saved(key)
            if saved is not None:
                if saved.fingerprint != fingerprint:
                    raise IdempotencyConflict(key)
                return Answer(saved.status, saved.body, replayed=True)
        answer = run(uow)
        if key is not None and answer.status < 400:
            uow.access.save(SavedResponse(key, fingerprint, answer.status, answer.body))
        uow.commit()
    return answer
