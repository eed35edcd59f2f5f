"""Posting rules: one event in, its :class:`Posting` out. Pure: no I/O, no clock.

The rules follow the one stage pipeline of posting-rules §2 for every trigger-point variant;
:mod:`backflush.domain.books` says where value sits, this module moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from backflush.domain.bom import BomLine, BomVersion, Requirement, explode, lines_feeding
from backflush.domain.books import HOLDING_ROLES, Books, change_at, value_change
from backflush.domain.costing import Cost, CostVersion, MasterData, hours_cost, roll_up
from backflush.domain.errors import NegativeStockError, PeriodLockedError, PostingError
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Receipt,
    Release,
    Reversal,
    Sale,
    Scrap,
    Transfer,
    period_bounds,
)
from backflush.domain.journal import (
    Alert,
    Derivation,
    Finding,
    JournalEntry,
    JournalLine,
    PendingChange,
    Posting,
    StockMove,
    queue_after,
)
from backflush.domain.numbers import ZERO, div, fmt_qty, mul, round_money
from backflush.domain.policy import ConversionMode, Method, NegativeStock, Policy, Role, Stage


@dataclass(frozen=True, slots=True)
class PostedEvent:
    event: Event
    posting: Posting
    # Posted in a summary: the summary entry's number (0: the summary had no entry). The
    # posting is then the event's share, by the rules (see domain.summary.share).
    summary: int | None = None


class LedgerView(Protocol):
    """What posting may read of the ledger: the state before the event."""

    @property
    def locked_through(self) -> date | None: ...

    def prefetch(self, items: Iterable[str]) -> None:
        """A hint: stock of these items is about to be read (a store may read it in one go)."""
        ...

    def on_hand(self, item: str, location: str) -> Decimal: ...

    def on_hand_total(self, item: str) -> Decimal: ...

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]: ...

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]: ...

    def pending_total(self, item: str) -> Decimal: ...

    def pending_totals(self) -> Mapping[str, Decimal]: ...

    def posted(self, event_id: str) -> PostedEvent | None: ...

    def reversed_by(self, event_id: str) -> str | None: ...

    def balance(self, account: str, as_of: date | None = None) -> Decimal: ...

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal: ...

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]: ...

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]: ...


@dataclass(frozen=True, slots=True)
class Context:
    master: MasterData
    policy: Policy
    costs: CostVersion
    view: LedgerView
    # False: the amounts only, without memos and derivations (a summary's event shapes).
    detail: bool = True
    _books: Books | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def books(self) -> Books:
        if self._books is None:
            object.__setattr__(self, "_books", _books(self.master, self.policy, self.costs))
        assert self._books is not None
        return self._books

    def r(self, amount: Decimal) -> Decimal:
        return round_money(amount, self.policy.minor_unit)

    def name(self, role: Role) -> str:
        return self.policy.name(role)


_RECENT_BOOKS: list[Books] = []  # the books of the last few contexts (their caches are warm)


def _books(master: MasterData, policy: Policy, costs: CostVersion) -> Books:
    for books in _RECENT_BOOKS:
        if books.master is master and books.policy is policy and books.costs is costs:
            return books
    books = Books(master, policy, costs)
    _RECENT_BOOKS.insert(0, books)
    del _RECENT_BOOKS[4:]
    return books


# --------------------------------------------------------------------------- running state


class Overlay:
    """The ledger as it stands part-way through one event's posting."""

    def __init__(self, view: LedgerView) -> None:
        self.view = view
        self.totals: dict[str, Decimal] = {}
        self.at_loc: dict[tuple[str, str], Decimal] = {}
        self.pending_tot: dict[str, Decimal] = {}
        self.pending_loc: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
        self.moves: list[StockMove] = []
        self.pending: list[PendingChange] = []

    def total(self, item: str) -> Decimal:
        if item not in self.totals:
            self.totals[item] = self.view.on_hand_total(item)
        return self.totals[item]

    def at(self, item: str, location: str) -> Decimal:
        key = (item, location)
        if key not in self.at_loc:
            self.at_loc[key] = self.view.on_hand(item, location)
        return self.at_loc[key]

    def ptotal(self, item: str) -> Decimal:
        if item not in self.pending_tot:
            self.pending_tot[item] = self.view.pending_total(item)
        return self.pending_tot[item]

    def queue(self, item: str, location: str) -> list[tuple[str, Decimal]]:
        key = (item, location)
        if key not in self.pending_loc:
            self.pending_loc[key] = list(self.view.pending_at(item, location))
        return self.pending_loc[key]

    def move(self, m: StockMove) -> tuple[Decimal, Decimal]:
        """Apply a stock move; return the item's total before and after."""
        old = self.total(m.item)
        self.totals[m.item] = old + m.qty
        self.at_loc[(m.item, m.location)] = self.at(m.item, m.location) + m.qty
        self.moves.append(m)
        return old, old + m.qty

    def park(self, p: PendingChange) -> tuple[Decimal, Decimal]:
        old = self.ptotal(p.item)
        self.pending_tot[p.item] = old + p.qty
        key = (p.item, p.location)
        self.pending_loc[key] = queue_after(self.queue(p.item, p.location), p)
        self.pending.append(p)
        return old, old + p.qty


class EntryBuilder:
    """Collects signed amounts (debit positive) by account; rounds nothing, drops zeros."""

    def __init__(self, ctx: Context, event: Event, description: str, type_: str | None = None,
                 when: date | None = None) -> None:
        self.ctx = ctx
        self.event = event
        self.description = description
        self.type = type_ or event.type
        self.date = when or event.date
        self.amounts: dict[tuple[str, Role | None, str | None], Decimal] = {}
        self.memos: dict[tuple[str, Role | None, str | None], list[str]] = {}
        self.derivations: list[Derivation] = []
        self.bom = ""
        self.cogs_material = ZERO
        self.cogs_conversion = ZERO
        self._accounts = ctx.policy.accounts

    def add(self, role: Role | None, amount: Decimal, memo: str = "", *,
            account: str | None = None, family: str | None = None) -> None:
        if amount == 0:
            return
        name = account if account is not None else self._accounts[role] if role else "?"
        key = (name, role, family)
        self.amounts[key] = self.amounts.get(key, ZERO) + amount
        if memo:
            self.memos.setdefault(key, []).append(memo)

    def derive(self, item: str, qty: Decimal, basis: str, amount: Decimal, role: Role | None,
               *, bom: str = "", location: str = "", account: str | None = None) -> None:
        name = account if account is not None else self._accounts[role] if role else "-"
        self.derivations.append(Derivation(item, qty, basis, amount, name, bom, location))

    @property
    def residual(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

    def build(self) -> JournalEntry | None:
        residual = self.residual
        if residual != 0:
            self.add(Role.ROUNDING, -residual, "rounding difference")
        lines: list[JournalLine] = []
        for (name, role, family), amount in self.amounts.items():
            if amount == 0:
                continue
            memos = self.memos.get((name, role, family), [])
            memo = memos[0] if len(memos) == 1 else "; ".join(dict.fromkeys(memos))
            if amount > 0:
                lines.append(JournalLine(name, amount, ZERO, role, memo, family))
            else:
                lines.append(JournalLine(name, ZERO, -amount, role, memo, family))
        if not lines:
            return None
        lines.sort(key=lambda ln: (ln.debit == 0,))
        return JournalEntry(self.event.id, self.date, self.type, self.description, tuple(lines),
                            tuple(self.derivations), self.ctx.costs.number, self.bom,
                            self.cogs_material, self.cogs_conversion)


def _stock_value(ctx: Context, ov: Overlay, eb: EntryBuilder | None, move: StockMove,
                 memo: str, bom: str = "", basis: str = "", said: str = "") -> Decimal:
    """Apply ``move`` and post the change in the item's book value; return that change.

    The derivation reads "{basis} at {unit value}" (``said``, when the caller has it
    already), or "{qty} x {unit value}" without a basis."""
    old, new = ov.move(move)
    books = ctx.books
    held = books.held(move.item)
    if held is None:
        return ZERO
    role, value = held
    amount = change_at(value, ctx.policy.minor_unit, old, new)
    if eb is not None and amount != 0:
        eb.add(role, amount, memo)
        if not ctx.detail:
            return amount
        eb.derive(move.item, move.qty, said or (f"{basis} at {value}" if basis else
                                                 f"{fmt_qty(move.qty)} x {value}"),
                  amount, role, bom=bom, location=move.location)
    return amount


def _pending_value(ctx: Context, ov: Overlay, eb: EntryBuilder | None,
                   change: PendingChange) -> Decimal:
    """Park or clear a short issue; the clearing account holds −value of what is parked."""
    old, new = ov.park(change)
    amount = -value_change(ctx.books, change.item, old, new)
    if eb is not None and amount != 0:
        what = "parked" if change.qty > 0 else "cleared"
        eb.add(Role.PENDING_BACKFLUSH, amount, f"{change.item} short issue {what}")
        eb.derive(change.item, change.qty, f"pending {what} for {change.source}", amount,
                  Role.PENDING_BACKFLUSH, location=change.location)
    return amount


# --------------------------------------------------------------------------- checks


def _check_open(ctx: Context, event: Event) -> None:
    locked = ctx.view.locked_through
    if locked is not None and event.date <= locked:
        raise PeriodLockedError(event.id, f"{event.date} is in a closed period (closed through "
                                f"{locked}); post the correction in the open period", "date")


def _check_item(ctx: Context, event: Event, code: str, *, made: bool | None = None,
                stocked: bool = True) -> None:
    item = ctx.master.items.get(code)
    if item is None:
        raise PostingError(event.id, f"unknown item '{code}'", "item")
    if stocked and item.phantom:
        raise PostingError(event.id, f"'{code}' is a phantom and is never stocked", "item")
    if made is True and not item.made:
        raise PostingError(event.id, f"'{code}' is a purchased item, not a made one", "item")
    if made is False and item.made:
        raise PostingError(event.id, f"'{code}' is a made item; report a completion instead",
                           "item")


def _withdrawal(ctx: Context, event: Event, item: str, location: str, qty: Decimal
                ) -> tuple[Overlay, list[Alert]]:
    """Start posting an event that takes ``qty`` of ``item`` out of ``location``."""
    _check_item(ctx, event, item)
    ov = Overlay(ctx.view)
    alerts: list[Alert] = []
    have = ov.at(item, location)
    if qty > have:
        _shortage(ctx, event, [(item, location, qty, have)], alerts)
    return ov, alerts


def _shortage(ctx: Context, event: Event, shorts: list[tuple[str, str, Decimal, Decimal]],
              alerts: list[Alert]) -> None:
    """Apply the negative-stock policy to movements that would go below zero."""
    if not shorts:
        return
    text = "; ".join(f"{item} at {loc}: needs {fmt_qty(need)}, has {fmt_qty(have)}"
                     for item, loc, need, have in shorts)
    if ctx.policy.negative_stock is NegativeStock.REJECT:
        raise NegativeStockError(event.id, "stock would go below zero: " + text, "qty")
    alerts.append(Alert(event.id, "negative_stock", "stock went below zero: " + text))


# --------------------------------------------------------------------------- events


def _receipt(ctx: Context, ev: Receipt) -> Posting:
    _check_item(ctx, ev, ev.item, made=False)
    ov = Overlay(ctx.view)
    std = ctx.costs[ev.item].unit_cost
    alerts: list[Alert] = []
    entries: list[JournalEntry] = []
    eb = EntryBuilder(ctx, ev, f"Receipt of {fmt_qty(ev.qty)} {ev.item}"
                      + (f" from {ev.supplier}" if ev.supplier else ""))
    move = StockMove(ev.item, ev.location, ev.qty, "receipt")
    if ctx.policy.triggered(Stage.PURCHASE):
        rip = _stock_value(ctx, ov, eb, move, f"{ev.item} at standard {std}")
        payable, ppv = receipt_amounts(ctx, ev.qty, ev.unit_price, rip)
        eb.add(Role.ACCOUNTS_PAYABLE, -payable, f"{ev.item} at {ev.unit_price}")
        eb.add(Role.PURCHASE_PRICE_VARIANCE, ppv, f"{ev.item}: {ev.unit_price} vs "
               f"standard {std}")
        eb.derive(ev.item, ev.qty, f"{fmt_qty(ev.qty)} x actual {ev.unit_price}", -payable,
                  Role.ACCOUNTS_PAYABLE)
        entry = eb.build()
        if entry:
            entries.append(entry)
    else:
        ov.move(move)
        alert = price_alert(ctx, ev.id, ev.item, ev.unit_price)
        if alert is not None:
            alerts.append(alert)
    _clear_pending(ctx, ov, ev, ev.item, ev.location, entries)
    return Posting(tuple(entries), tuple(ov.moves), tuple(ov.pending), tuple(alerts))


def receipt_amounts(ctx: Context, qty: Decimal, unit_price: Decimal, at_standard: Decimal
                    ) -> tuple[Decimal, Decimal]:
    """(payable, purchase price variance) of a receipt whose stock value rose ``at_standard``."""
    payable = ctx.r(mul(qty, unit_price))
    return payable, payable - at_standard


def price_alert(ctx: Context, event_id: str, item: str, unit_price: Decimal) -> Alert | None:
    """A receipt off standard when purchase is not a trigger point: the variance is lost."""
    std = ctx.costs[item].unit_cost
    if unit_price == std or ctx.policy.triggered(Stage.PURCHASE):
        return None
    return Alert(event_id, "price_variance_not_recorded",
                 f"{item} received at {unit_price} against standard {std}: purchase is not a "
                 f"trigger point under {ctx.policy.variant}, so the price variance is not "
                 "recorded")


def sale_revenue(ctx: Context, qty: Decimal, unit_price: Decimal) -> Decimal:
    return ctx.r(mul(qty, unit_price))


def _clear_pending(ctx: Context, ov: Overlay, ev: Event, item: str, location: str,
                   entries: list[JournalEntry]) -> None:
    """Reprocess short issues parked for ``item`` at ``location`` now that stock arrived."""
    queue = list(ov.queue(item, location))
    available = ov.at(item, location)
    if not queue or available <= 0:
        return
    eb = EntryBuilder(ctx, ev, f"Pending backflush of {item} cleared", "pending_cleared")
    for source, qty in queue:
        if available <= 0:
            break
        take = min(qty, available)
        available -= take
        _stock_value(ctx, ov, eb, StockMove(item, location, -take, "backflush"),
                     f"{item} issued to {source}")
        _pending_value(ctx, ov, eb, PendingChange(item, location, -take, source))
    entry = eb.build()
    if entry:
        entries.append(entry)


def _conversion_incurred(ctx: Context, ev: ConversionIncurred) -> Posting:
    eb = EntryBuilder(ctx, ev, f"Conversion cost incurred ({ev.element})")
    debit = (Role.CONVERSION_EXPENSE if ctx.policy.conversion is ConversionMode.EXPENSED
             else Role.CONVERSION_CONTROL)
    amount = ctx.r(ev.amount)
    eb.add(debit, amount, ev.element)
    credit_name = ev.credit or ctx.name(Role.CONVERSION_SOURCES)
    eb.add(None if ev.credit else Role.CONVERSION_SOURCES, -amount, ev.element,
           account=credit_name)
    entry = eb.build()
    return Posting((entry,) if entry else ())


def _applied_conversion(ctx: Context, ev: Completion, qty: Decimal) -> tuple[Cost, Cost]:
    """(standard, applied) conversion for ``qty`` units: applied uses reported hours."""
    std_cost = ctx.costs[ev.item]
    standard = std_cost.own_conversion.scaled(qty)
    applied = standard
    for wc, actual_hours in ev.hours:
        if wc not in ctx.master.work_centers:
            raise PostingError(ev.id, f"unknown work center '{wc}'", "hours")
        std_hours = mul(std_cost.hours.get(wc, ZERO), qty)
        at_standard = hours_cost({wc: std_hours}, ctx.master.work_centers)
        at_actual = hours_cost({wc: actual_hours}, ctx.master.work_centers)
        applied = applied + at_actual + at_standard.scaled(Decimal(-1))
    return standard, applied


@dataclass(frozen=True, slots=True)
class _Component:
    """One component of a completion plan: what it relieves whatever the stock."""

    code: str
    need: Decimal
    memo: str  # the journal line's memo ("" without detail)
    basis: str  # the derivation's basis, before any parked part ("" without detail)
    said: str  # the derivation as it reads when nothing is parked ("" without detail)
    payable: Decimal | None  # at standard, not yet on the books (completion trigger only)
    payable_memo: str
    payable_basis: str


@dataclass(frozen=True, slots=True)
class _CompletionPlan:
    """What a completion of one quantity of an item relieves at these books and BOM versions:
    the part of its posting that does not depend on stock, worked out once and reused."""

    bom: str
    phantoms: tuple[tuple[str, str], ...]  # (phantom, its version key) met in the explosion
    prefetch: tuple[str, ...]  # the item and its components
    components: tuple[_Component, ...]
    actual: Decimal  # Σ need × standard value of the components
    expected: Decimal  # the quantity × the lower-level cost the item was costed with


_PLANS_KEPT = 20_000  # plans kept per books; beyond, they are worked out afresh


def _completion_plan(ctx: Context, item: str, total_qty: Decimal, when: date
                     ) -> _CompletionPlan:
    """The plan of a completion of ``total_qty`` of ``item`` on ``when``: from the books' memo
    when the same BOM versions are in effect, else worked out (and kept)."""
    books, boms = ctx.books, ctx.master.boms
    top = boms.on(item, when)
    key = ("completion", item, str(total_qty), ctx.detail, top.key if top is not None else "")
    plan = books.memo.get(key)
    if isinstance(plan, _CompletionPlan) and all(
            (v.key if (v := boms.on(code, when)) is not None else "") == version
            for code, version in plan.phantoms):
        return plan
    plan = _work_out_plan(ctx, item, total_qty, when)
    if len(books.memo) >= _PLANS_KEPT:
        books.memo.clear()
    books.memo[key] = plan
    return plan


def _work_out_plan(ctx: Context, item: str, total_qty: Decimal, when: date) -> _CompletionPlan:
    books, master, detail = ctx.books, ctx.master, ctx.detail
    c_trigger = ctx.policy.triggered(Stage.COMPLETION)
    explosion = explode(item, total_qty, when, master.boms, master.items)
    needs = explosion.totals()
    by_component: dict[str, list[Requirement]] = {}
    for r in explosion.requirements if detail else ():
        by_component.setdefault(r.component, []).append(r)
    qty_text = fmt_qty(total_qty)
    actual = ZERO
    components = []
    for comp, need in sorted(needs.items()):
        memo = basis = ""
        if detail:
            lines = by_component[comp]
            if len(lines) == 1 and not lines[0].via:
                memo = f"{comp} backflushed for {item}"
            else:
                via = {r.via for r in lines}
                memo = f"{comp} backflushed for {item}" + (
                    f" via {', '.join(v for vs in via for v in vs)}" if any(via) else "")
            if len(lines) == 1:
                per = (f"{fmt_qty(div(lines[0].qty, total_qty).normalize())} per "
                       f"({lines[0].bom})")
            else:
                per = " + ".join(f"{fmt_qty(div(r.qty, total_qty).normalize())} per ({r.bom})"
                                 for r in lines)
            basis = f"{per} x {qty_text}"
        comp_value = books.std_value(comp)
        actual += mul(need, comp_value)
        payable = None
        payable_memo = payable_basis = ""
        if c_trigger and books.role(comp) is None:
            payable = ctx.r(mul(need, comp_value))
            payable_memo = f"{comp} at standard, not yet on the books"
            payable_basis = f"{fmt_qty(need)} x standard {comp_value}"
        held = books.held(comp)
        said = f"{basis} at {held[1]}" if basis and held is not None else ""
        components.append(_Component(comp, need, memo, basis, said, payable, payable_memo,
                                     payable_basis))
    std_x = ctx.costs[item]
    lower_basis = std_x.lower_level.material + (
        std_x.lower_level.conversion_total if books.inventoriable(item)[1] and c_trigger
        else ZERO)
    return _CompletionPlan(explosion.bom, explosion.versions, (item, *needs),
                           tuple(components), actual, mul(total_qty, lower_basis))


def _completion(ctx: Context, ev: Completion) -> Posting:
    _check_item(ctx, ev, ev.item, made=True)
    policy, books = ctx.policy, ctx.books
    total_qty = ev.qty + ev.scrap_qty
    plan = _completion_plan(ctx, ev.item, total_qty, ev.date)
    ctx.view.prefetch(plan.prefetch)
    ov = Overlay(ctx.view)
    alerts: list[Alert] = []
    loc = ev.location

    shorts = [(c.code, loc, c.need, ov.at(c.code, loc)) for c in plan.components
              if c.need > ov.at(c.code, loc)]
    queueing = policy.negative_stock is NegativeStock.QUEUE
    if not queueing:
        _shortage(ctx, ev, shorts, alerts)
    short_items = {c for c, *_ in shorts}

    c_trigger = policy.triggered(Stage.COMPLETION)
    sequential = policy.method is Method.SEQUENTIAL
    on_books = c_trigger or policy.triggered(Stage.PURCHASE)
    title = f"Completion of {fmt_qty(ev.qty)} {ev.item}" + (
        f" ({fmt_qty(ev.scrap_qty)} scrapped)" if ev.scrap_qty else "")
    issue = EntryBuilder(ctx, ev, f"Issue of components for {ev.item}", "issue") \
        if sequential else EntryBuilder(ctx, ev, title)
    issue.bom = plan.bom
    # Components: relieve stock (or park the short part) and credit where the value sat.
    for c in plan.components:
        take, park, basis, said = c.need, ZERO, c.basis, c.said
        if queueing and c.code in short_items:
            take = max(min(c.need, ov.at(c.code, loc)), ZERO)
            park = c.need - take
            if park and ctx.detail:
                basis, said = basis + f", {fmt_qty(park)} parked", ""
        if take:
            _stock_value(ctx, ov, issue, StockMove(c.code, loc, -take, "backflush"),
                         c.memo, plan.bom, basis, said)
        if park:
            _pending_value(ctx, ov, issue, PendingChange(c.code, loc, park, ev.id))
            alerts.append(Alert(ev.id, "queued", f"{fmt_qty(park)} {c.code} short at "
                                f"{loc}: issue parked until stock arrives"))
        if c.payable is not None:
            issue.add(Role.ACCOUNTS_PAYABLE, -c.payable, c.payable_memo)
            issue.derive(c.code, -c.need, c.payable_basis, -c.payable, Role.ACCOUNTS_PAYABLE,
                         bom=plan.bom)
    actual_components, expected_components = plan.actual, plan.expected
    std_x = ctx.costs[ev.item]
    material_x, conv_x = books.content(ev.item)

    conversion = EntryBuilder(ctx, ev, f"Conversion applied to {ev.item}", "conversion_applied") \
        if sequential else issue
    output = EntryBuilder(ctx, ev, title, "completion") if sequential else issue
    output.bom = plan.bom
    if c_trigger and policy.inventories_conversion:
        standard, applied = _applied_conversion(ctx, ev, total_qty)
        std_amount = ctx.r(standard.conversion_total)
        applied_amount = ctx.r(applied.conversion_total)
        basis = ", ".join(f"{wc} {fmt_qty(h)} h" for wc, h in ev.hours) or "standard"
        conversion.add(Role.CONVERSION_APPLIED, -applied_amount,
                       f"{ev.item} own conversion at {basis}")
        conversion.derive(ev.item, total_qty, f"own conversion ({basis})", -applied_amount,
                          Role.CONVERSION_APPLIED)
        output.add(Role.CONVERSION_EFFICIENCY_VARIANCE, applied_amount - std_amount,
                   f"{ev.item}: reported hours vs standard hours")
    elif ev.hours and not c_trigger:
        alerts.append(Alert(ev.id, "hours_not_used", "completion is not a trigger point under "
                            f"{policy.variant}: reported hours are recorded but not applied"))
    if sequential:
        for builder in (issue, conversion):
            into_wip = -builder.residual
            builder.add(Role.WORK_IN_PROCESS, into_wip, f"into WIP for {ev.item}")
            output.add(Role.WORK_IN_PROCESS, -into_wip, f"out of WIP for {ev.item}")
    # The made item: into stock at its value; scrapped units to the scrap variance.
    if ev.qty:
        _stock_value(ctx, ov, output, StockMove(ev.item, ev.destination, ev.qty, "completion"),
                     f"{ev.item} completed")
    if on_books and ev.scrap_qty:
        scrap_value = ctx.r(mul(ev.scrap_qty, material_x + conv_x))
        output.add(Role.SCRAP_VARIANCE, scrap_value, f"{fmt_qty(ev.scrap_qty)} {ev.item} scrapped "
                   "at completion")
        output.derive(ev.item, ev.scrap_qty, f"scrapped x {material_x + conv_x}", scrap_value,
                      Role.SCRAP_VARIANCE)
    if on_books and expected_components != actual_components:
        diff = ctx.r(actual_components) - ctx.r(expected_components)
        output.add(Role.MATERIAL_USAGE_VARIANCE, diff,
                   f"BOM {plan.bom} differs from the BOM costed ({std_x.bom})")
    entries = [e for e in (b.build() for b in dict.fromkeys((issue, conversion, output))) if e]
    return Posting(tuple(entries), tuple(ov.moves), tuple(ov.pending), tuple(alerts))


def _sale(ctx: Context, ev: Sale) -> Posting:
    ov, alerts = _withdrawal(ctx, ev, ev.item, ev.location, ev.qty)
    books = ctx.books
    eb = EntryBuilder(ctx, ev, f"Sale of {fmt_qty(ev.qty)} {ev.item}")
    item = ctx.master.items[ev.item]
    material, conv = books.inventoriable(ev.item)
    _stock_value(ctx, ov, eb, StockMove(ev.item, ev.location, -ev.qty, "sale"),
                 f"{ev.item} relieved")
    on_books = books.role(ev.item) is not None
    booked_material, booked_conv = books.content(ev.item) if on_books else (ZERO, ZERO)
    if conv and booked_conv == 0:
        applied = ctx.r(mul(ev.qty, conv))
        eb.add(Role.CONVERSION_APPLIED, -applied, f"{ev.item} conversion, all levels")
        eb.derive(ev.item, ev.qty, f"conversion x {conv}", -applied, Role.CONVERSION_APPLIED)
    if booked_material == 0 and material:
        payable = ctx.r(mul(ev.qty, material))
        eb.add(Role.ACCOUNTS_PAYABLE, -payable, f"{ev.item} materials at standard, "
               "not yet on the books")
        eb.derive(ev.item, ev.qty, f"material x {material}", -payable, Role.ACCOUNTS_PAYABLE)
    cogs = ctx.r(mul(ev.qty, material + conv))
    eb.add(Role.COST_OF_GOODS_SOLD, cogs, f"{ev.item} at standard {material + conv}"
           + (" (all levels)" if item.made else ""))
    eb.derive(ev.item, ev.qty, f"standard x {material + conv}", cogs, Role.COST_OF_GOODS_SOLD)
    eb.cogs_material = ctx.r(mul(ev.qty, material))
    eb.cogs_conversion = cogs - eb.cogs_material
    if ev.unit_price is not None:
        revenue = sale_revenue(ctx, ev.qty, ev.unit_price)
        eb.add(Role.ACCOUNTS_RECEIVABLE, revenue, ev.customer)
        eb.add(Role.SALES, -revenue, f"{fmt_qty(ev.qty)} {ev.item} at {ev.unit_price}")
    entry = eb.build()
    return Posting((entry,) if entry else (), tuple(ov.moves), (), tuple(alerts))


def _scrap(ctx: Context, ev: Scrap) -> Posting:
    ov, alerts = _withdrawal(ctx, ev, ev.item, ev.location, ev.qty)
    eb = EntryBuilder(ctx, ev, f"Scrap of {fmt_qty(ev.qty)} {ev.item}"
                      + (f": {ev.reason}" if ev.reason else ""))
    amount = _stock_value(ctx, ov, eb, StockMove(ev.item, ev.location, -ev.qty, "scrap"),
                          f"{ev.item} scrapped")
    eb.add(Role.SCRAP_VARIANCE, -amount, ev.reason or "component scrap")
    entry = eb.build()
    return Posting((entry,) if entry else (), tuple(ov.moves), (), tuple(alerts))


def _transfer(ctx: Context, ev: Transfer) -> Posting:
    ov, alerts = _withdrawal(ctx, ev, ev.item, ev.from_location, ev.qty)
    ov.move(StockMove(ev.item, ev.from_location, -ev.qty, "transfer"))
    ov.move(StockMove(ev.item, ev.to_location, ev.qty, "transfer"))
    entries: list[JournalEntry] = []
    _clear_pending(ctx, ov, ev, ev.item, ev.to_location, entries)
    return Posting(tuple(entries), tuple(ov.moves), tuple(ov.pending), tuple(alerts))


def _count(ctx: Context, ev: Count) -> Posting:
    _check_item(ctx, ev, ev.item)
    ov = Overlay(ctx.view)
    book = ov.at(ev.item, ev.location)
    diff = ev.qty - book
    if diff == 0:
        return Posting()
    eb = EntryBuilder(ctx, ev, f"Count of {ev.item} at {ev.location}: {fmt_qty(ev.qty)} "
                      f"counted, {fmt_qty(book)} on the books")
    amount = _stock_value(ctx, ov, eb, StockMove(ev.item, ev.location, diff, "count"),
                          f"{ev.item} count difference {fmt_qty(diff)}")
    eb.add(Role.MATERIAL_USAGE_VARIANCE, -amount, f"{ev.item} count difference {fmt_qty(diff)}")
    entries: list[JournalEntry] = []
    entry = eb.build()
    if entry:
        entries.append(entry)
    if diff > 0:
        _clear_pending(ctx, ov, ev, ev.item, ev.location, entries)
    findings = diagnose_count(ctx, ev, diff)
    alerts = tuple(Alert(ev.id, "wrong_bom_line", f.message) for f in findings)
    return Posting(tuple(entries), tuple(ov.moves), tuple(ov.pending), alerts, findings)


def diagnose_count(ctx: Context, ev: Count, diff: Decimal) -> tuple[Finding, ...]:
    """Which BOM lines a count difference points at.

    The difference is compared with what was backflushed of the item since the start of the
    count's period. When it exceeds the policy's tolerance (share of the quantity
    backflushed), every BOM line that consumed the item is reported with the quantity per that
    would have matched the count.
    """
    start, _ = period_bounds(f"{ev.date.year:04d}-{ev.date.month:02d}")
    used = ctx.view.backflushed(ev.item, start, ev.date)
    backflushed = sum(used.values(), ZERO)
    if backflushed <= 0 or abs(diff) < mul(backflushed, ctx.policy.count_tolerance):
        return ()
    factor = div(backflushed - diff, backflushed)
    by_line: dict[tuple[str, str], tuple[BomVersion, BomLine, Decimal]] = {}
    for parent in sorted(used):
        for version, line in lines_feeding(parent, ev.item, ev.date, ctx.master.boms,
                                           ctx.master.items):
            key = (version.key, line.component)
            _, _, before = by_line.get(key, (version, line, ZERO))
            by_line[key] = (version, line, before + used[parent])
    findings = []
    for version, line, qty in by_line.values():
        suggested = mul(line.qty, factor).quantize(Decimal("0.0001")).normalize()
        findings.append(Finding(ev.id, version.parent, ev.item, version.key, line.qty,
                                suggested, qty, diff))
    return tuple(findings)


def _release(ctx: Context, ev: Release) -> Posting:
    _check_item(ctx, ev, ev.item, made=True)
    return Posting()  # an order release is recorded; stage B is never a trigger point


def _cost_change(ctx: Context, ev: CostChange) -> Posting:
    _check_item(ctx, ev, ev.item, stocked=False)
    item = ctx.master.items[ev.item]
    if ev.standard_cost is not None and item.made:
        raise PostingError(ev.id, f"'{ev.item}' is made: its standard cost is rolled up; "
                           "change its conversion_cost or its components", "standard_cost")
    if ev.conversion_cost is not None:
        if not item.made:
            raise PostingError(ev.id, f"'{ev.item}' is purchased: change standard_cost",
                               "conversion_cost")
        if ctx.master.routings.get(ev.item):
            raise PostingError(ev.id, f"'{ev.item}' is costed by its routing; change the work "
                               "center rates instead", "conversion_cost")
    changed = replace(item, standard_cost=ev.standard_cost) if ev.standard_cost is not None \
        else replace(item, conversion_cost=ev.conversion_cost)
    master = ctx.master.with_item(changed)
    costs = roll_up(master, ev.date, ctx.costs.number + 1)
    old_books, new_books = ctx.books, Books(master, ctx.policy, costs)
    eb = EntryBuilder(ctx, ev, f"Standard cost change of {ev.item}: cost version "
                      f"{costs.number}")
    for code, qty in sorted(ctx.view.stock_totals().items()):
        role = old_books.role(code)
        if role is None or qty == 0:
            continue
        delta = new_books.valuation(code, qty) - old_books.valuation(code, qty)
        eb.add(role, delta, f"{code} revalued")
        eb.derive(code, qty, f"{old_books.unit_value(code)} -> {new_books.unit_value(code)}",
                  delta, role)
    for code, qty in sorted(ctx.view.pending_totals().items()):
        delta = -(new_books.valuation(code, qty) - old_books.valuation(code, qty))
        eb.add(Role.PENDING_BACKFLUSH, delta, f"{code} pending revalued")
    eb.add(Role.REVALUATION_VARIANCE, -eb.residual, "revaluation of stock on hand")
    entry = eb.build()
    return Posting((entry,) if entry else (), new_cost_version=costs, new_master=master)


def _reversal(ctx: Context, ev: Reversal) -> Posting:
    original = ctx.view.posted(ev.of)
    if original is None:
        raise PostingError(ev.id, f"there is no posted event '{ev.of}' to reverse", "of")
    kind = original.event.type
    if kind in ("reversal", "close", "cost_change"):
        raise PostingError(ev.id, f"a {kind} cannot be reversed; post a new event instead", "of")
    by = ctx.view.reversed_by(ev.of)
    if by is not None:
        raise PostingError(ev.id, f"'{ev.of}' was already reversed by '{by}'", "of")
    ov = Overlay(ctx.view)
    alerts: list[Alert] = []
    eb = EntryBuilder(ctx, ev, f"Reversal of {ev.of} ({kind})")
    for entry in original.posting.entries:
        for line in entry.lines:
            if line.role not in HOLDING_ROLES:
                eb.add(line.role, -line.net, f"reverses {ev.of}: {line.memo}".rstrip(": "),
                       account=line.account, family=line.family)
        eb.cogs_material -= entry.cogs_material
        eb.cogs_conversion -= entry.cogs_conversion
    shorts: list[tuple[str, str, Decimal, Decimal]] = []
    # Short issues this event cleared for a completion that has since been reversed: that
    # reversal already gave the quantity back, so they are not undone a second time.
    settled: dict[tuple[str, str], Decimal] = {}
    for p in original.posting.pending:
        if p.qty > 0 and p.source == original.event.id:
            still = sum((q for s, q in ov.queue(p.item, p.location) if s == p.source), ZERO)
            still = min(still, p.qty)
            if still:
                _pending_value(ctx, ov, eb, PendingChange(p.item, p.location, -still, p.source))
            if p.qty - still:
                _stock_value(ctx, ov, eb, StockMove(p.item, p.location, p.qty - still,
                                                    "reversal"), f"reverses {ev.of}")
        elif p.qty < 0 and ctx.view.reversed_by(p.source) is not None:
            key = (p.item, p.location)
            settled[key] = settled.get(key, ZERO) - p.qty
        else:
            _pending_value(ctx, ov, eb, PendingChange(p.item, p.location, -p.qty, p.source))
    for m in original.posting.moves:
        qty = m.qty
        if m.kind == "backflush" and original.event.type != "completion":
            skip = min(settled.get((m.item, m.location), ZERO), -qty)
            settled[(m.item, m.location)] = settled.get((m.item, m.location), ZERO) - skip
            qty += skip
            if qty == 0:
                continue
        if qty > 0 and ov.at(m.item, m.location) < qty:
            shorts.append((m.item, m.location, qty, ov.at(m.item, m.location)))
        _stock_value(ctx, ov, eb, StockMove(m.item, m.location, -qty, "reversal"),
                     f"reverses {ev.of}")
    _shortage(ctx, ev, shorts, alerts)
    if eb.residual and original.posting.cost_version != ctx.costs.number:
        eb.add(Role.REVALUATION_VARIANCE, -eb.residual,
               "standards changed since the original was posted")
    built = eb.build()
    return Posting((built,) if built else (), tuple(ov.moves), tuple(ov.pending), tuple(alerts))


# --------------------------------------------------------------------------- dispatch

_RULES: dict[type[Event], Callable[[Context, Event], Posting]] = {}


def _rule(cls: type[Event], fn: Callable[[Context, Event], Posting]) -> None:
    _RULES[cls] = fn


def post(ctx: Context, event: Event) -> Posting:
    """The effects of ``event`` on the ledger described by ``ctx``; raises PostingError."""
    from backflush.domain.close import close_period
    from backflush.domain.opening import Opening, post_opening

    _check_open(ctx, event)
    if isinstance(event, Close):
        return replace(close_period(ctx, event), cost_version=ctx.costs.number)
    if isinstance(event, Opening):
        return replace(post_opening(ctx, event), cost_version=ctx.costs.number)
    rule = _RULES.get(type(event))
    if rule is None:
        raise PostingError(event.id, f"unknown event type {type(event).__name__}", "type")
    posting = replace(rule(ctx, event), cost_version=ctx.costs.number)
    for entry in posting.entries:
        if not entry.balanced:  # pragma: no cover - the builder balances by construction
            raise AssertionError(f"entry for {event.id} does not balance")
    return posting


_rule(Receipt, _receipt)  # type: ignore[arg-type]
_rule(ConversionIncurred, _conversion_incurred)  # type: ignore[arg-type]
_rule(Completion, _completion)  # type: ignore[arg-type]
_rule(Sale, _sale)  # type: ignore[arg-type]
_rule(Scrap, _scrap)  # type: ignore[arg-type]
_rule(Transfer, _transfer)  # type: ignore[arg-type]
_rule(Count, _count)  # type: ignore[arg-type]
_rule(Release, _release)  # type: ignore[arg-type]
_rule(CostChange, _cost_change)  # type: ignore[arg-type]
_rule(Reversal, _reversal)  # type: ignore[arg-type]
