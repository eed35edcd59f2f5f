"""The unit of work: one transaction around a use case; rolls back unless committed."""

from __future__ import annotations

import abc
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from backflush.domain.errors import BackflushError
from backflush.service_layer.repository import LedgerRepository

T = TypeVar("T")


class ConcurrencyError(BackflushError):
    """Another transaction got there first (serialization failure, deadlock, busy lock).

    Nothing of the unit of work was kept; running it again is safe.
    """


def with_retries(use_case: Callable[[], T], attempts: int = 200,
                 on_retry: Callable[[ConcurrencyError], None] | None = None) -> T:
    """Run a use case again after a :class:`ConcurrencyError`, with jittered backoff.

    Never drops work silently: after the last attempt the error is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return use_case()
        except ConcurrencyError as exc:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(exc)
            time.sleep(min(0.2, 0.002 * attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


class UnitOfWork(abc.ABC):
    ledger: LedgerRepository

    def __enter__(self) -> UnitOfWork:
        self._committed = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.rollback()

    def commit(self) -> None:
        self._commit()
        self._committed = True

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
