"""The unit of work: one transaction around a use case; rolls back unless committed."""

from __future__ import annotations

import abc
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TypeVar

from backflush.domain.errors import ConcurrencyError
from backflush.service_layer.ports import (
    AccessStore,
    EventLog,
    Floor,
    Journal,
    MasterStore,
    Stock,
)

T = TypeVar("T")


class UnitOfWork(abc.ABC):
    """The six stores of one ledger, in one transaction. ``with uow: ... uow.commit()``;
    leaving the block without a commit rolls everything back."""

    master: MasterStore
    events: EventLog
    journal: Journal
    stock: Stock
    floor: Floor
    access: AccessStore

    def __enter__(self) -> UnitOfWork:
        self._committed = False
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._committed:
                self.rollback()
        finally:
            self._end()

    def commit(self) -> None:
        self._commit()
        self._committed = True

    @abc.abstractmethod
    def _begin(self) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def _end(self) -> None:
        """Release what the transaction held (a connection)."""

    @abc.abstractmethod
    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: what is written inside is undone if the block raises."""


def with_retries(use_case: Callable[[], T], attempts: int = 200,
                 on_retry: Callable[[ConcurrencyError], None] | None = None,
                 deadline: float | None = None) -> T:
    """Run a use case again after a :class:`ConcurrencyError`, with jittered backoff, up to
    ``attempts`` times and, when given, no longer than ``deadline`` seconds in all.

    Never drops work silently: after the last attempt the error is raised.
    """
    start = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return use_case()
        except ConcurrencyError as exc:
            late = deadline is not None and time.monotonic() - start >= deadline
            if attempt == attempts or late:
                raise
            if on_retry is not None:
                on_retry(exc)
            time.sleep(min(0.2, 0.002 * attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
