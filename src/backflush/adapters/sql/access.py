"""API tokens and saved responses in SQL (the :class:`~backflush.service_layer.ports.AccessStore`
port): two small tables, read by key."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.engine import Tx
from backflush.service_layer.ports import SavedResponse, Token

_TOKEN = select(t.api_tokens.c.id, t.api_tokens.c.name, t.api_tokens.c.role,
                t.api_tokens.c.digest, t.api_tokens.c.created, t.api_tokens.c.revoked)


def _token(row: object) -> Token:
    return Token(*row)  # type: ignore[misc]


class SqlAccess:
    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add_token(self, token: Token) -> None:
        self._tx.run(insert(t.api_tokens).values(
            id=token.id, name=token.name, role=token.role, digest=token.digest,
            created=token.created, revoked=token.revoked))

    def tokens(self) -> list[Token]:
        rows = self._tx.rows(_TOKEN.order_by(t.api_tokens.c.created, t.api_tokens.c.id))
        return [_token(r) for r in rows]

    def token(self, digest: str) -> Token | None:
        rows = self._tx.rows(_TOKEN.where(t.api_tokens.c.digest == digest))
        return _token(rows[0]) if rows else None

    def revoke(self, token_id: str) -> None:
        self._tx.run(update(t.api_tokens).where(t.api_tokens.c.id == token_id)
                     .values(revoked=True))

    def saved(self, key: str) -> SavedResponse | None:
        c = t.saved_responses.c
        rows = self._tx.rows(select(c.key, c.fingerprint, c.status, c.body)
                             .where(c.key == key))
        return SavedResponse(*rows[0]) if rows else None

    def save(self, response: SavedResponse) -> None:
        self._tx.run(insert(t.saved_responses).values(
            key=response.key, fingerprint=response.fingerprint, status=response.status,
            body=response.body))
