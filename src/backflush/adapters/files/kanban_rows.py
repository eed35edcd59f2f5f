"""Supermarket items as files give them (the scenario's ``kanban`` list, the ``kanban`` CSV
of ``backflush import``)."""

from __future__ import annotations

from backflush.adapters.files.limits import Code, Factor, Price, Quantity
from backflush.adapters.files.schemas import Row
from backflush.domain.kanban import Supermarket
from backflush.domain.numbers import ZERO


class KanbanRow(Row):
    item: Code
    location: Code
    container_qty: Quantity
    lead_time_days: Price = ZERO
    safety: Factor = ZERO

    def to_domain(self) -> Supermarket:
        return self._domain(lambda: Supermarket(self.item, self.location, self.container_qty,
                                                self.lead_time_days, self.safety))
