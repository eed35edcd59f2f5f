"""The unit of work: one transaction around a use case; rolls back unless committed."""

from __future__ import annotations

import abc
from types import TracebackType

from backflush.service_layer.repository import LedgerRepository


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
