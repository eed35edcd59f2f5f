"""Components issued by hand (BOM lines ``flush: manual``): the ``issue`` event, and what a
completion does with the in-process stock the issues built.

* An **issue** moves the component from its location into the in-process location of the
  item being made (:mod:`backflush.domain.inprocess`). Raw and in-process materials are one
  account (RIP), so the issue moves quantities only: the value stays in the component's
  account, at standard, until the completion relieves it. Nothing else is posted.
* A **completion** relieves a manual line's standard quantity (qty per × (1 + scrap) × the
  units made and scrapped) from that in-process location, as it would backflush it from
  stores: Cr the component's account, the made item's full standard Dr as usual.
* **Short**: when less is in process than the completion needs, it consumes what is there,
  and the rest of the standard quantity, which the floor used without an issue or did not
  use at all, is a (favourable) **Material Usage Variance** at standard, with an
  ``issue_short`` alert. (A count of the stores the part came from later finds the units
  taken without an issue, an unfavourable usage variance of the same amount.) For a part
  the policy keeps off the books there is no value to move: the alert says so.
* **In excess**: what was issued beyond the completions' needs stays in process, on hand and
  valued, for the next completion; a transfer returns it to stores, and a count of the
  in-process location sets it (the difference to the usage variance, as any count).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from backflush.domain import inprocess
from backflush.domain.bom import explode
from backflush.domain.drafts import Amount, Draft, DraftEntry, DraftMaker, Move
from backflush.domain.errors import PostingError
from backflush.domain.events import Event, Issue
from backflush.domain.numbers import ONE, ZERO, fmt_qty, fmt_unit
from backflush.domain.policy import Role
from backflush.domain.rules.context import RuleContext, check_item
from backflush.domain.valuation import value_of


def issue(ctx: RuleContext, ev: Issue) -> Draft:
    """Quantities from ``location`` into the parent's in-process location; refused unless
    the item is a component of the parent on a line issued by hand (on the issue's date)."""
    check_item(ctx, ev, ev.item)
    master = ctx.master
    parent = master.items.get(ev.parent)
    if parent is None:
        raise PostingError(ev.id, f"unknown item '{ev.parent}'", "for")
    if not parent.made:
        raise PostingError(ev.id, f"'{ev.parent}' is a purchased item: nothing is made of "
                           "it to issue components to", "for")
    if parent.phantom:
        raise PostingError(ev.id, f"'{ev.parent}' is a phantom, built inside its parents: "
                           "issue to the stocked item being made", "for")
    if inprocess.is_in_process(ev.location):
        raise PostingError(ev.id, f"{ev.location} is an in-process location: issue from "
                           "stock (a transfer moves stock between locations)", "location")
    explosion = explode(ev.parent, ONE, ev.date, master.boms, master.items)
    lines = [r for r in explosion.requirements if r.component == ev.item]
    bom = f"BOM {explosion.bom}" if explosion.bom else "no BOM"
    if not lines:
        raise PostingError(ev.id, f"'{ev.item}' is not a component of '{ev.parent}' ({bom} "
                           f"in effect on {ev.date})", "item")
    if not any(r.manual for r in lines):
        raise PostingError(ev.id, f"'{ev.item}' is backflushed when '{ev.parent}' is "
                           f"completed ({bom}, flush: backflush): issuing it by hand would "
                           "relieve it twice; issue lines marked flush: manual (a new BOM "
                           "version), or move stock with a transfer", "item")
    d = DraftMaker(ctx.books)
    d.move(ev.item, ev.location, -ev.qty, "issue", None)
    d.move(ev.item, inprocess.location(ev.parent), ev.qty, "issue", None)
    return d.draft()


def consume_in_process(ctx: RuleContext, event: Event, draft: Draft) -> Draft:
    """A completion's draft with what its manual lines need beyond the in-process stock
    taken as a usage variance (see the module's doc); the draft itself when nothing is
    short (it reads the stock, so the summary posts such a run event by event)."""
    if event.type != "completion":
        return draft
    have = ctx.view.on_hand
    running: dict[tuple[str, str], Decimal] = {}
    moves: list[Move] = []
    extra: dict[int, list[Amount]] = {}
    alerts: list[tuple[str, str]] = []
    for m in draft.moves:
        if m.qty >= 0 or m.kind != "backflush" or not inprocess.is_in_process(m.location):
            moves.append(m)
            continue
        key = (m.item, m.location)
        on_hand = running[key] if key in running else have(*key)
        need = -m.qty
        take = min(need, max(on_hand, ZERO))
        running[key] = on_hand - take
        short = need - take
        if not short:
            moves.append(m)
            continue
        if take:
            moves.append(replace(m, qty=-take, basis=f"{m.basis}, {fmt_qty(short)} short"
                                 if m.basis else m.basis))
        held = ctx.books.held(m.item)
        parent = inprocess.parent_of(m.location)
        said = (f"{m.item} for {parent}: the completion needs {fmt_qty(need)} in process "
                f"({m.location}), {fmt_qty(max(on_hand, ZERO))} issued")
        if held is None or m.entry < 0:
            alerts.append(("issue_short", f"{said}; {fmt_qty(short)} not issued (off the "
                           "books under this policy: quantities only)"))
            continue
        role, unit = Role.MATERIAL_USAGE_VARIANCE, held[1]
        value = -value_of(unit, ctx.policy.minor_unit, short)
        if value:
            extra.setdefault(m.entry, []).append(Amount(
                role, ctx.name(role), value, f"{m.item} for {parent}: short of the issues",
                None, m.item, -short, f"{fmt_qty(short)} needed, not issued, x standard "
                f"{fmt_unit(unit)}", m.bom, m.location))
        alerts.append(("issue_short", f"{said}; {fmt_qty(short)} at standard to the usage "
                       "variance"))
    if not alerts:
        return draft
    entries: list[DraftEntry] = [replace(e, amounts=(*e.amounts, *extra.get(i, ())))
                                 for i, e in enumerate(draft.entries)]
    return replace(draft, entries=tuple(entries), moves=tuple(moves),
                   alerts=(*draft.alerts, *alerts))
