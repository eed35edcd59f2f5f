"""Receipts and sales: the high-volume events besides completions (posting-rules §2)."""

from __future__ import annotations

from backflush.domain import alerts
from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.events import Receipt, Sale
from backflush.domain.numbers import fmt_qty, fmt_unit, mul
from backflush.domain.policy import Role, Stage
from backflush.domain.rules.context import RuleContext, check_item
from backflush.domain.rules.pending import clear_pending
from backflush.domain.valuation import value_of


def receipt(ctx: RuleContext, ev: Receipt) -> Draft:
    """With the purchase trigger: Dr RIP (the change in the stock's value at standard),
    Cr Accounts Payable at actual, Dr/Cr Purchase Price Variance = actual − standard of the
    quantity received (each rounded to the cent; a cent between the standard and the change
    in the rounded stock value is a rounding difference). Without it, quantities only, and an
    alert when the price is off standard; with ``payables: received``, Dr GR/IR Clearing at
    standard in place of RIP (the parts stay off the inventory books)."""
    check_item(ctx, ev, ev.item, made=False)
    d = DraftMaker(ctx.books)
    std = ctx.unit_cost(ev.item)
    if ctx.policy.triggered(Stage.PURCHASE) or ctx.policy.clears_receipts:
        e = d.entry("receipt", f"Receipt of {fmt_qty(ev.qty)} {ev.item}"
                    + (f" from {ev.supplier}" if ev.supplier else ""))
        d.move(ev.item, ev.location, ev.qty, "receipt", e, f"{ev.item} at standard {fmt_unit(std)}")
        payable = e.add(Role.ACCOUNTS_PAYABLE, -mul(ev.qty, ev.unit_price),
                        f"{ev.item} at {ev.unit_price:f}", item=ev.item, qty=ev.qty,
                        basis=f"{fmt_qty(ev.qty)} x actual {ev.unit_price:f}")
        at_standard = value_of(std, ctx.policy.minor_unit, ev.qty)
        if ctx.policy.clears_receipts:  # off the books: at standard on the clearing account
            e.add_money(Role.GR_IR_CLEARING, at_standard, f"{ev.item} at standard "
                        f"{fmt_unit(std)}, received, not yet consumed", item=ev.item,
                        qty=ev.qty, basis=f"{fmt_qty(ev.qty)} x standard {fmt_unit(std)}")
        e.add(Role.PURCHASE_PRICE_VARIANCE, -payable - at_standard,
              f"{ev.item}: {ev.unit_price:f} vs standard {fmt_unit(std)}", item=ev.item,
              qty=ev.qty,
              basis=f"{fmt_qty(ev.qty)} x ({ev.unit_price:f} - standard {fmt_unit(std)})")
    else:
        d.move(ev.item, ev.location, ev.qty, "receipt", None)
    d.alerts.extend(alerts.receipt_price(
        ctx.policy.alerts, ev.item, ev.qty, ev.unit_price, std, variant=ctx.policy.variant,
        recorded=ctx.policy.triggered(Stage.PURCHASE) or ctx.policy.clears_receipts))
    clear_pending(ctx, d, ev.item, ev.location,
                  ctx.view.on_hand(ev.item, ev.location) + ev.qty)
    return d.draft()


def sale(ctx: RuleContext, ev: Sale) -> Draft:
    """Dr COGS at full standard; Cr where the value sat (FG or RIP, through the stock line),
    and for what is not on the books yet: Cr Conversion Applied and Cr Accounts Payable at
    standard. With a price: Dr Accounts Receivable, Cr Sales."""
    check_item(ctx, ev, ev.item)
    books = ctx.books
    d = DraftMaker(books)
    e = d.entry("sale", f"Sale of {fmt_qty(ev.qty)} {ev.item}")
    made = ctx.master.items[ev.item].made
    material, conv = books.inventoriable(ev.item)
    d.move(ev.item, ev.location, -ev.qty, "sale", e, f"{ev.item} relieved")
    booked_material, booked_conv = books.content(ev.item) if books.role(ev.item) else (0, 0)
    if conv and booked_conv == 0:
        e.add(Role.CONVERSION_APPLIED, -mul(ev.qty, conv), f"{ev.item} conversion, all levels",
              item=ev.item, qty=ev.qty, basis=f"conversion x {fmt_unit(conv)}")
    if material and booked_material == 0:
        e.add(ctx.policy.unbooked_materials_role, -mul(ev.qty, material), f"{ev.item} materials at "
              "standard, not yet on the books", item=ev.item, qty=ev.qty,
              basis=f"material x {fmt_unit(material)}")
    std = material + conv
    cogs = e.add(Role.COST_OF_GOODS_SOLD, mul(ev.qty, std), f"{ev.item} at standard {fmt_unit(std)}"
                 + (" (all levels)" if made else ""), item=ev.item, qty=ev.qty,
                 basis=f"standard x {fmt_unit(std)}")
    e.cogs_material = value_of(material, ctx.policy.minor_unit, ev.qty)
    e.cogs_conversion = cogs - e.cogs_material
    if ev.unit_price is not None:
        revenue = mul(ev.qty, ev.unit_price)
        e.add(Role.ACCOUNTS_RECEIVABLE, revenue, ev.customer)
        e.add(Role.SALES, -revenue, f"{fmt_qty(ev.qty)} {ev.item} at {ev.unit_price:f}")
    return d.draft()
