"""Period close (posting-rules §4): dispose of the variances, then lock the period.

1. Conversion: under/over-applied = Control − Applied (with the efficiency variance from
   reported hours). Written off to cost of goods sold, or prorated over the accounts that hold
   this period's applied conversion (ending RIP, ending FG and this period's COGS) in
   proportion to the standard conversion in each. Control and Applied end at zero.
2. Material families (purchase price, usage, scrap, revaluation): write-off, proration in
   proportion to standard material content, or keep (left open, carried forward).
3. The GAAP bridge, when the close asks for it (:mod:`.gaap`).
4. Lock: no event dated on or before the period's last day can post afterwards.

Prorated amounts that belong to inventory go to the *capitalized variances* accounts beside
RIP and FG, never into RIP or FG themselves, so the inventory accounts keep equalling the
stock subledger at standard. The capitalized balance of a family is re-spread at the next
close together with that period's variances (a weighted average that follows the stock).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backflush.domain import alerts
from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Close, period_bounds
from backflush.domain.numbers import ZERO, fmt_qty, largest_remainder, mul
from backflush.domain.policy import FAMILIES, FAMILY_ROLES, MADE_ONLY, Disposition, Role
from backflush.domain.rules.context import RuleContext
from backflush.domain.rules.gaap import post_bridge

CAPITALIZED = {Role.MATERIALS: Role.MATERIALS_CAPITALIZED_VARIANCES,
               Role.RAW_MATERIALS: Role.MATERIALS_CAPITALIZED_VARIANCES,
               Role.FINISHED_GOODS: Role.FINISHED_GOODS_CAPITALIZED_VARIANCES}
TARGETS = (Role.MATERIALS_CAPITALIZED_VARIANCES, Role.FINISHED_GOODS_CAPITALIZED_VARIANCES,
           Role.COST_OF_GOODS_SOLD)


def proration_basis(ctx: RuleContext, start: date, end: date, family: str
                    ) -> list[tuple[Role, Decimal]]:
    """Standard content by destination: capitalized RIP, capitalized FG, this period's COGS.
    Usage and scrap variances arise in making things: they go onto made items in stock and
    cost of goods sold, never onto purchased parts in stores."""
    books = ctx.books
    conversion_family = family == "conversion"
    made_only = family in MADE_ONLY
    held: dict[Role, Decimal] = {}
    for code, qty in ctx.view.stock_totals(end).items():
        role = books.role(code)
        if role is None or qty <= 0 or (made_only and not books.master.items[code].made):
            continue
        material, conv = books.content(code)
        target = CAPITALIZED[role]
        held[target] = held.get(target, ZERO) + mul(qty, conv if conversion_family else material)
    cogs_material, cogs_conv = ctx.view.cogs_content(start, end)
    held[Role.COST_OF_GOODS_SOLD] = cogs_conv if conversion_family else cogs_material
    return [(role, max(held.get(role, ZERO), ZERO)) for role in TARGETS]


def _items(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


def unfinished(ctx: RuleContext, end: date) -> str:
    """What a close should not paper over, in words ('' when nothing): issues still pending
    (components owed to completions) and stock below zero at the period's end."""
    parts = []
    pending = {item: qty for item, qty in ctx.view.pending_totals().items() if qty}
    if pending:
        parts.append(f"{_items(len(pending))} with issues pending (" + ", ".join(
            f"{item} {fmt_qty(qty)}" for item, qty in sorted(pending.items())[:5]) + ")")
    held = ctx.view.held_through(end)
    if held:
        parts.append(f"{len(held)} completion{'s' if len(held) > 1 else ''} held unposted ("
                     + ", ".join(held[:5]) + "; backflush queue --retry)")
    negative = {item: qty for item, qty in ctx.view.stock_totals(end).items() if qty < 0}
    if negative:
        parts.append(f"{_items(len(negative))} below zero (" + ", ".join(
            f"{item} {fmt_qty(qty)}" for item, qty in sorted(negative.items())[:5]) + ")")
    return "; ".join(parts)


def close(ctx: RuleContext, ev: Close) -> Draft:
    start, end = period_bounds(ev.period)
    policy, view = ctx.policy, ctx.view
    d = DraftMaker(ctx.books)
    left = unfinished(ctx, end)
    if left and not ev.force:
        raise PostingError(ev.id, f"{ev.period} has {left}: the variances would be measured "
                           "on incomplete usage; post the missing receipts, counts or "
                           "reversals first, or close with force (force: true on the close, "
                           "backflush close --force)", "period")
    if left:
        d.alert("close_forced", f"{ev.period} closed by force with {left}")
    control, applied = (policy.name(Role.CONVERSION_CONTROL),
                        policy.name(Role.CONVERSION_APPLIED))
    if control != applied:  # one account for both: Applied alone is not known
        d.alerts.extend(alerts.under_over_applied(policy.alerts, ev.period, view.balance(
            control, end), -view.balance(applied, end)))
    e = d.entry("close", f"Close of period {ev.period}", when=end)
    written_off: dict[str, Decimal] = {}
    claimed: set[str] = set()  # an account two families share goes with the first of them
    for family in FAMILIES:
        disposition = policy.disposition[family]
        names = [name for name in dict.fromkeys(policy.name(r) for r in FAMILY_ROLES[family])
                 if name not in claimed]
        claimed.update(names)
        if disposition is Disposition.KEEP:
            continue
        role_of = {policy.name(r): r for r in reversed(FAMILY_ROLES[family])}
        pool = ZERO
        for name in names:
            balance = view.balance(name, end)
            if balance:
                e.add_money(role_of[name], -balance, f"{family} variance closed", account=name)
                pool += balance
        if disposition is Disposition.PRORATE:
            for cap in TARGETS[:2]:
                held = view.family_balance(family, policy.name(cap), end)
                if held:
                    e.add_money(cap, -held, f"{family} capitalized last period, re-spread",
                                family=family)
                    pool += held
        if pool == 0:
            continue
        if disposition is Disposition.WRITE_OFF:
            e.add_money(Role.COST_OF_GOODS_SOLD, pool, f"{family} variance written off")
            written_off[family] = pool
            continue
        basis = proration_basis(ctx, start, end, family)
        weights = [w for _, w in basis]
        if sum(weights, ZERO) <= 0:
            e.add_money(Role.COST_OF_GOODS_SOLD, pool, f"{family} variance written off: "
                        "nothing holds this period's standard content to prorate over")
            d.alert("proration_fallback", f"{family}: no ending inventory or cost of sales to "
                    "prorate over; written off to COGS")
            continue
        parts = largest_remainder(pool, weights, policy.minor_unit)
        for (role, weight), part in zip(basis, parts, strict=True):
            e.add_money(role, part, f"{family} variance prorated ({weight:f} standard content)",
                        family=None if role is Role.COST_OF_GOODS_SOLD else family)
    if ev.gaap_bridge:
        post_bridge(ctx, d, ev, start, end, written_off)
    return d.draft(locks_through=end)
