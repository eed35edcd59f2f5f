"""Period close (posting-rules §4): dispose of the variances, then lock the period.

1. Conversion: under/over-applied = Control − Applied (with the efficiency variance from
   reported hours). Written off to cost of goods sold, or prorated over the accounts that hold
   this period's applied conversion (ending RIP, ending FG and this period's COGS) in
   proportion to the standard conversion in each. Control and Applied end at zero.
2. Material families (purchase price, usage, scrap, revaluation): write-off, proration in
   proportion to standard material content, or keep (left open, carried forward).
3. Lock: no event dated on or before the period's last day can post afterwards.

Prorated amounts that belong to inventory go to the *capitalized variances* accounts beside
RIP and FG, never into RIP or FG themselves, so the inventory accounts keep equalling the
stock subledger at standard. The capitalized balance of a family is re-spread at the next
close together with that period's variances (a weighted average that follows the stock).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backflush.domain.events import Close, period_bounds
from backflush.domain.journal import Alert, JournalEntry, Posting
from backflush.domain.numbers import ZERO, largest_remainder, mul
from backflush.domain.policy import (
    FAMILIES,
    FAMILY_ROLES,
    Disposition,
    Role,
)
from backflush.domain.posting import Context, EntryBuilder

CAPITALIZED = {Role.MATERIALS: Role.MATERIALS_CAPITALIZED_VARIANCES,
               Role.RAW_MATERIALS: Role.MATERIALS_CAPITALIZED_VARIANCES,
               Role.FINISHED_GOODS: Role.FINISHED_GOODS_CAPITALIZED_VARIANCES}


def proration_basis(ctx: Context, start: date, end: date, family: str
                    ) -> list[tuple[Role, Decimal]]:
    """Standard content by destination: capitalized RIP, capitalized FG, this period's COGS."""
    books = ctx.books
    conversion_family = family == "conversion"
    held: dict[Role, Decimal] = {}
    for code, qty in ctx.view.stock_totals(end).items():
        role = books.role(code)
        if role is None or qty <= 0:
            continue
        material, conv = books.content(code)
        per_unit = conv if conversion_family else material
        target = CAPITALIZED[role]
        held[target] = held.get(target, ZERO) + mul(qty, per_unit)
    cogs_material, cogs_conv = ctx.view.cogs_content(start, end)
    held[Role.COST_OF_GOODS_SOLD] = cogs_conv if conversion_family else cogs_material
    order = (Role.MATERIALS_CAPITALIZED_VARIANCES, Role.FINISHED_GOODS_CAPITALIZED_VARIANCES,
             Role.COST_OF_GOODS_SOLD)
    return [(role, max(held.get(role, ZERO), ZERO)) for role in order]


def close_period(ctx: Context, ev: Close) -> Posting:
    start, end = period_bounds(ev.period)
    policy = ctx.policy
    eb = EntryBuilder(ctx, ev, f"Close of period {ev.period}", "close", when=end)
    alerts: list[Alert] = []
    for family in FAMILIES:
        disposition = policy.disposition[family]
        if disposition is Disposition.KEEP:
            continue
        names = list(dict.fromkeys(policy.name(r) for r in FAMILY_ROLES[family]))
        role_of = {policy.name(r): r for r in reversed(FAMILY_ROLES[family])}
        pool = ZERO
        for name in names:
            balance = ctx.view.balance(name, end)
            if balance:
                eb.add(role_of[name], -balance, f"{family} variance closed", account=name)
                pool += balance
        capitalized = ZERO
        if disposition is Disposition.PRORATE:
            for cap in (Role.MATERIALS_CAPITALIZED_VARIANCES,
                        Role.FINISHED_GOODS_CAPITALIZED_VARIANCES):
                held = ctx.view.family_balance(family, policy.name(cap), end)
                if held:
                    eb.add(cap, -held, f"{family} capitalized last period, re-spread",
                           family=family)
                    capitalized += held
        total = pool + capitalized
        if total == 0:
            continue
        if disposition is Disposition.WRITE_OFF:
            eb.add(Role.COST_OF_GOODS_SOLD, total, f"{family} variance written off")
            continue
        basis = proration_basis(ctx, start, end, family)
        weights = [w for _, w in basis]
        if sum(weights, ZERO) <= 0:
            eb.add(Role.COST_OF_GOODS_SOLD, total, f"{family} variance written off: nothing "
                   "holds this period's standard content to prorate over")
            alerts.append(Alert(ev.id, "proration_fallback", f"{family}: no ending inventory "
                                "or cost of sales to prorate over; written off to COGS"))
            continue
        parts = largest_remainder(total, weights, policy.minor_unit)
        for (role, weight), part in zip(basis, parts, strict=True):
            eb.add(role, part, f"{family} variance prorated ({weight:f} standard content)",
                   family=None if role is Role.COST_OF_GOODS_SOLD else family)
    entry: JournalEntry | None = eb.build()
    return Posting((entry,) if entry else (), alerts=tuple(alerts), locks_through=end)
