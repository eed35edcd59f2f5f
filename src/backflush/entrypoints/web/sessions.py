"""Logins to the pages: a session per browser, kept in the server's memory, holding the
digest of the API token the user logged in with (never the token) and the CSRF token every
form of the session must carry.

A session lasts :data:`TTL` from its last use; the server's restart ends them all (the users
log in again). The token is looked up on every request, so a revoked token ends its
sessions at once."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "bf_session"
LOGIN_COOKIE = "bf_login"  # the CSRF token of the login form, before a session exists
TTL = 8 * 3600.0


@dataclass
class Session:
    id: str
    ledger: str
    digest: str  # the SHA-256 of the token logged in with
    csrf: str
    used: float = field(default_factory=time.monotonic)


class Sessions:
    """The server's sessions (thread-safe: pages run in worker threads)."""

    def __init__(self, ttl: float = TTL) -> None:
        self._ttl = ttl
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, ledger: str, digest: str) -> Session:
        session = Session(secrets.token_urlsafe(32), ledger, digest, secrets.token_urlsafe(32))
        with self._lock:
            self._expire()
            self._by_id[session.id] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            self._expire()
            session = self._by_id.get(sid)
            if session is not None:
                session.used = time.monotonic()
            return session

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._by_id.values() if now - s.used > self._ttl]:
            del self._by_id[sid]


def same(given: str | None, expected: str) -> bool:
    """A CSRF token as sent equals the one expected (compared in constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
