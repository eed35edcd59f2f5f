"""Cycle and physical counts, and the BOM lines a count difference points at."""

from __future__ import annotations

from decimal import Decimal

from backflush.domain import alerts
from backflush.domain.bom import BomLine, BomVersion, lines_feeding
from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.events import Count, period_bounds, period_of
from backflush.domain.journal import Finding
from backflush.domain.numbers import ROUNDING, ZERO, fmt_qty, mul
from backflush.domain.policy import Role
from backflush.domain.rules.context import RuleContext, check_item
from backflush.domain.rules.pending import clear_pending

SUGGESTION = Decimal("0.0001")


def count(ctx: RuleContext, ev: Count) -> Draft:
    """The book quantity at the location becomes the counted one; the difference at standard
    is a Material Usage Variance (when the item is on the books under the policy)."""
    check_item(ctx, ev, ev.item)
    d = DraftMaker(ctx.books)
    book = ctx.view.on_hand(ev.item, ev.location)
    diff = ev.qty - book
    if diff == 0:
        return d.draft()
    what = f"{ev.item} count difference {fmt_qty(diff)}"
    e = d.entry("count", f"Count of {ev.item} at {ev.location}: {fmt_qty(ev.qty)} counted, "
                f"{fmt_qty(book)} on the books")
    e.balance(Role.MATERIAL_USAGE_VARIANCE, what)
    d.move(ev.item, ev.location, diff, "count", e, what)
    if diff > 0:
        clear_pending(ctx, d, ev.item, ev.location, ev.qty)
    d.alerts.extend(alerts.count_difference(ctx.policy.alerts, ev.item, ev.location, ev.qty,
                                            book))
    findings = diagnose(ctx, ev, diff)
    for f in findings:
        d.alert("wrong_bom_line", f.message)
    return d.draft(findings=findings)


def diagnose(ctx: RuleContext, ev: Count, diff: Decimal) -> tuple[Finding, ...]:
    """Which BOM lines a count difference points at.

    The difference is compared with what was backflushed of the item since the start of the
    count's period. When it exceeds the policy's tolerance (share of the quantity
    backflushed), every BOM line that consumed the item is reported with the quantity per that
    would have matched the count.
    """
    start, _ = period_bounds(period_of(ev.date))
    used = ctx.view.backflushed(ev.item, start, ev.date)
    backflushed = sum(used.values(), ZERO)
    if backflushed <= 0 or abs(diff) < mul(backflushed, ctx.policy.count_tolerance):
        return ()
    factor = ROUNDING.divide(backflushed - diff, backflushed)
    by_line: dict[tuple[str, str], tuple[BomVersion, BomLine, Decimal]] = {}
    for parent in sorted(used):
        for version, line in lines_feeding(parent, ev.item, ev.date, ctx.master.boms,
                                           ctx.master.items):
            key = (version.key, line.component)
            _, _, before = by_line.get(key, (version, line, ZERO))
            by_line[key] = (version, line, before + used[parent])
    findings = []
    for version, line, qty in by_line.values():
        suggested = ROUNDING.multiply(line.qty, factor).quantize(SUGGESTION, context=ROUNDING)
        findings.append(Finding(ev.id, version.parent, ev.item, version.key, line.qty,
                                suggested.normalize(ROUNDING), qty, diff))
    return tuple(findings)
