"""Scrap, transfers, releases and conversion incurred: the events around the flow."""

from __future__ import annotations

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import ConversionIncurred, Release, Scrap, Signal, Transfer
from backflush.domain.numbers import fmt_qty
from backflush.domain.policy import ConversionMode, Role
from backflush.domain.rules.context import RuleContext, check_item
from backflush.domain.rules.pending import clear_pending


def scrap(ctx: RuleContext, ev: Scrap) -> Draft:
    """Component scrap: Cr the item's account, Dr Scrap Variance by the same amount (Dr
    Abnormal Scrap Loss, a period cost, when the scrap is abnormal)."""
    check_item(ctx, ev, ev.item)
    d = DraftMaker(ctx.books)
    e = d.entry("scrap", ("Abnormal scrap" if ev.abnormal else "Scrap")
                + f" of {fmt_qty(ev.qty)} {ev.item}" + (f": {ev.reason}" if ev.reason else ""))
    e.balance(Role.ABNORMAL_SCRAP if ev.abnormal else Role.SCRAP_VARIANCE,
              ev.reason or ("abnormal scrap" if ev.abnormal else "component scrap"))
    d.move(ev.item, ev.location, -ev.qty, "scrap", e, f"{ev.item} scrapped")
    return d.draft()


def transfer(ctx: RuleContext, ev: Transfer) -> Draft:
    """Quantities between locations; the value stays in the item's account."""
    check_item(ctx, ev, ev.item)
    d = DraftMaker(ctx.books)
    d.move(ev.item, ev.from_location, -ev.qty, "transfer", None)
    d.move(ev.item, ev.to_location, ev.qty, "transfer", None)
    clear_pending(ctx, d, ev.item, ev.to_location,
                  ctx.view.on_hand(ev.item, ev.to_location) + ev.qty)
    return d.draft()


def release(ctx: RuleContext, ev: Release) -> Draft:
    """Recorded; production start (stage B) is never a trigger point."""
    check_item(ctx, ev, ev.item, made=True)
    return Draft()


def signal(ctx: RuleContext, ev: Signal) -> Draft:
    """A kanban card: recorded on the shop floor (domain.kanban); no entry."""
    check_item(ctx, ev, ev.item)
    if (ev.item, ev.location) not in ctx.master.kanban:
        raise PostingError(ev.id, f"{ev.item} has no supermarket at {ev.location} (kanban "
                           "master data)", "location")
    return Draft()


def conversion_incurred(ctx: RuleContext, ev: ConversionIncurred) -> Draft:
    """Dr Conversion Costs Control (or, when conversion is expensed, the expense account),
    Cr the source account."""
    d = DraftMaker(ctx.books)
    e = d.entry("conversion_incurred", f"Conversion cost incurred ({ev.element})")
    debit = (Role.CONVERSION_EXPENSE if ctx.policy.conversion is ConversionMode.EXPENSED
             else Role.CONVERSION_CONTROL)
    amount = e.add(debit, ev.amount, ev.element)
    e.add(None if ev.credit else Role.CONVERSION_SOURCES, -amount, ev.element,
          account=ev.credit or ctx.name(Role.CONVERSION_SOURCES))
    return d.draft()
