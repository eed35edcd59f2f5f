"""Drafts worked out once per shape of event, and kept with the books in force.

Events of the same shape (the same fields but the id and date, and for a completion the same
BOM versions in effect on its date) have the same draft by the rules, as long as the draft
does not read the stock: completions, sales and scrap never do; a receipt does only to clear
parked issues. So the drafts of those are kept (with and without their texts), across
posting calls, through :meth:`~backflush.service_layer.ports.MasterStore.derived`: they are
dropped with the books they were worked out at, whenever master data, policy or costs change.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal
from operator import attrgetter

from backflush.domain import rules
from backflush.domain.bom import signature
from backflush.domain.drafts import Draft
from backflush.domain.events import Event
from backflush.domain.rules.context import RuleContext
from backflush.domain.summary import Moves, Shape

KEPT = 50_000  # drafts kept; beyond, they are worked out afresh
READ_ONLY_RULES = frozenset({"completion", "sale", "scrap"})  # rules that never read stock


class Drafts:
    """The drafts and shapes worked out at one set of books."""

    def __init__(self) -> None:
        self._drafts: dict[Hashable, Draft] = {}
        self._shapes: dict[Hashable, Shape] = {}
        self._signatures: dict[tuple[str, date], tuple[str, ...]] = {}
        self._getters: dict[type[Event], attrgetter[tuple[object, ...]]] = {}
        self._per_unit: dict[Moves, Moves] = {}  # equal moves per unit, one object each

    def key(self, ctx: RuleContext, event: Event, day: date | None = None
            ) -> Hashable | None:
        """The event's shape (dated ``day``, if given), or None when its draft may depend on
        the ledger's state."""
        when = event.date if day is None else day
        kind = event.type
        item = str(getattr(event, "item", ""))
        if kind not in READ_ONLY_RULES and not (
                kind == "receipt" and not ctx.view.pending_total(item)):
            return None
        sig: tuple[str, ...] = ()
        master = ctx.master
        if kind == "completion" and item in master.items:
            at = (item, when)
            found = self._signatures.get(at)
            if found is None:
                found = self._signatures[at] = signature(item, when, master.boms,
                                                         master.items)
            sig = found
        cls = type(event)
        getter = self._getters.get(cls)
        if getter is None:
            getter = self._getters[cls] = attrgetter(
                *(f.name for f in fields(cls) if f.name not in ("id", "date")))
        return (cls, getter(event), sig, ctx.detail)

    def draft(self, ctx: RuleContext, event: Event) -> Draft:
        """The event's draft by its rule: kept for its shape when that is safe."""
        key = self.key(ctx, event)
        if key is None:
            return rules.draft(ctx, event)
        found = self._drafts.get(key)
        if found is None:
            found = rules.draft(ctx, event)
            if len(self._drafts) >= KEPT:
                self._drafts.clear()
            self._drafts[key] = found
        return found

    def shape(self, ctx: RuleContext, event: Event, day: date) -> Shape:
        """The shape of an event of a run to summarise (its draft without texts), for a
        template dated ``day``: the template is dated only when its shape is new."""
        key = self.key(ctx, event, day)
        found = self._shapes.get(key) if key is not None else None
        if found is None:
            dated = event if event.date == day else replace(event, date=day)
            qty = getattr(event, "qty", None)
            found = Shape.of(event.type, str(getattr(event, "item", "")),
                             self.draft(ctx, dated), qty if isinstance(qty, Decimal) else None)
            if found.per_unit is not None:  # one object for equal moves per unit: the
                # summary groups shapes by it (see domain.summary.Shape)
                same = self._per_unit.setdefault(found.per_unit, found.per_unit)
                found = replace(found, per_unit=same)
            if key is not None:
                if len(self._shapes) >= KEPT:
                    self._shapes.clear()
                    self._per_unit.clear()
                self._shapes[key] = found
        return found
