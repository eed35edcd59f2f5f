"""The negative-stock policy (posting-rules §3), applied to every draft in one place.

A withdrawal that would take more than is on hand at its location is, by the policy:
``reject``: refused, the whole event; ``allow``: posted, with an alert; ``queue``: for a
completion's backflush, the short part is parked until stock arrives (the made item still
posts), with an alert; sales, scrap, transfers and reversals cannot be parked, so under
``queue`` they are posted as under ``allow``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal

from backflush.domain import alerts
from backflush.domain.drafts import Draft, Move, Park
from backflush.domain.errors import NegativeStockError
from backflush.domain.events import Event
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO, fmt_qty
from backflush.domain.policy import NegativeStock, Policy
from backflush.domain.rules.context import RuleContext

Short = tuple[str, str, Decimal, Decimal]  # item, location, needs, has


def shortages(moves: Iterable[Move], have: Callable[[str, str], Decimal],
              running: dict[tuple[str, str], Decimal]) -> list[Short]:
    """The withdrawals among ``moves`` that take more than is on hand, in order; ``running``
    (the stock at each place as moves are applied, filled from ``have``) is kept up to date."""
    found = []
    for m in moves:
        key = (m.item, m.location)
        on_hand = running[key] if key in running else have(*key)
        if m.qty < 0 and -m.qty > on_hand:
            found.append((m.item, m.location, -m.qty, on_hand))
        running[key] = on_hand + m.qty
    return found


def words(shorts: Iterable[Short]) -> str:
    return "; ".join(f"{item} at {loc}: needs {fmt_qty(need)}, has {fmt_qty(have)}"
                     for item, loc, need, have in shorts)


def shortage_alert(policy: Policy, shorts: list[Short]) -> list[tuple[str, str]]:
    """The negative-stock alert of ``shorts`` (none when the policy switches it off)."""
    return alerts.negative_stock(policy.alerts, words(shorts)) if shorts else []


def rule_of(ctx: RuleContext, item: str, location: str) -> NegativeStock:
    return item_rule(ctx.master, ctx.policy, item, location)


def item_rule(master: MasterData, policy: Policy, item: str, location: str) -> NegativeStock:
    """The item's own negative-stock rule, else its location's, else the policy's."""
    found = master.items.get(item)
    own = found.negative_stock if found is not None else None
    if own is not None:
        return NegativeStock(own)
    return policy.negative_stock_at.get(location, policy.negative_stock)


def apply_policy(ctx: RuleContext, event: Event, draft: Draft) -> Draft:
    """``draft`` with the negative-stock rules applied, each item by its own rule or the
    policy's (or NegativeStockError when an item that rejects would go below zero)."""
    have = ctx.view.on_hand
    completion = event.type == "completion"
    running: dict[tuple[str, str], Decimal] = {}
    moves: list[Move] = []
    parks: list[Park] = []
    queued: list[tuple[str, str]] = []
    shorts: list[Short] = []
    for m in draft.moves:
        key = (m.item, m.location)
        on_hand = running[key] if key in running else have(*key)
        if m.qty < 0 and -m.qty > on_hand:
            if completion and m.kind == "backflush" \
                    and rule_of(ctx, m.item, m.location) is NegativeStock.QUEUE:
                take = max(min(-m.qty, on_hand), ZERO)
                park = -m.qty - take
                if take:
                    basis = m.basis + f", {fmt_qty(park)} parked" if m.basis else m.basis
                    moves.append(replace(m, qty=-take, basis=basis))
                parks.append(Park(m.item, m.location, park, event.id, m.entry))
                queued.append(("queued", f"{fmt_qty(park)} {m.item} short at {m.location}: "
                               "issue parked until stock arrives"))
                running[key] = on_hand - take
                continue
            shorts.append((m.item, m.location, -m.qty, on_hand))
        running[key] = on_hand + m.qty
        moves.append(m)
    if not shorts and not queued:
        return draft
    rejected = [s for s in shorts if rule_of(ctx, s[0], s[1]) is NegativeStock.REJECT]
    if rejected:
        raise NegativeStockError(event.id, "stock would go below zero: " + words(rejected),
                                 "qty")
    raised = shortage_alert(ctx.policy, shorts) + queued
    return replace(draft, moves=tuple(moves), parks=(*draft.parks, *parks),
                   alerts=(*raised, *draft.alerts))
