"""API tokens and saved responses on every backend: kept hashed, revoked for good, and an
idempotent request's answer kept only with what it posted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backflush.domain.errors import ValidationError
from backflush.service_layer.access import (
    Access,
    Answer,
    IdempotencyConflict,
    authenticate,
    create_token,
    digest,
    list_tokens,
    once,
    revoke_token,
)
from backflush.service_layer.ports import SavedResponse
from backflush.service_layer.unit_of_work import UnitOfWork
from tests.integration.sql.contract import Store


def test_a_token_is_kept_hashed_and_revoked_for_good(store: Store) -> None:
    made = create_token(store.uow(), "operator", "mes")
    assert made.secret.startswith("bf_") and len(made.secret) > 40
    assert made.token.digest == digest(made.secret) and made.secret not in repr(made.token)
    uow = store.uow()
    with uow:
        assert authenticate(uow, made.secret) == made.token
        assert authenticate(uow, made.secret + "x") is None
        assert authenticate(uow, "not-ours") is None
    with pytest.raises(ValidationError, match="a token named mes is in use"):
        create_token(store.uow(), "viewer", "mes")
    with pytest.raises(ValidationError, match="unknown role"):
        create_token(store.uow(), "owner")
    assert revoke_token(store.uow(), "mes").id == made.token.id
    with uow:
        assert authenticate(uow, made.secret) is None
    with pytest.raises(ValidationError, match="no token in use"):
        revoke_token(store.uow(), "mes")
    again = create_token(store.uow(), "viewer", "mes")  # the name is free again
    assert {(t.id, t.revoked) for t in list_tokens(store.uow())} == {
        (made.token.id, True), (again.token.id, False)}
    assert Access.named(again.token.role) is Access.VIEWER


def test_a_saved_answer_is_replayed_and_a_failed_one_is_not_kept(store: Store) -> None:
    runs: list[int] = []

    def run(status: int) -> Callable[[UnitOfWork], Answer]:
        def go(uow: UnitOfWork) -> Answer:
            runs.append(status)
            return Answer(status, f'{{"status": {status}}}')
        return go

    first = once(store.uow(), "key-1", "f1", run(200))
    assert first == Answer(200, '{"status": 200}') and runs == [200]
    replay = once(store.uow(), "key-1", "f1", run(201))
    assert replay.replayed and replay.body == first.body and runs == [200]
    with pytest.raises(IdempotencyConflict, match="key-1"):
        once(store.uow(), "key-1", "f2", run(200))
    refused = once(store.uow(), "key-2", "f1", run(422))
    assert not refused.replayed
    uow = store.uow()
    with uow:
        assert uow.access.saved("key-2") is None
        assert uow.access.saved("key-1") == SavedResponse("key-1", "f1", 200,
                                                          '{"status": 200}')


def test_nothing_is_kept_of_a_request_that_raised(store: Store) -> None:
    def boom(uow: UnitOfWork) -> Answer:
        raise ValidationError([])

    with pytest.raises(ValidationError):
        once(store.uow(), "key-3", "f", boom)
    uow = store.uow()
    with uow:
        assert uow.access.saved("key-3") is None
