"""Summary posting: a run of completions, receipts and sales, one journal entry per day.

The backflush way to keep books at plant volume (policy ``journal: summary``): every event is
still stored one by one, but the journal gets one summary entry per day of a run, and stock
moves are summed per item, location and parent. The amounts are exactly the sum of what the
per-event rules post, because they are computed by those rules:

* Amounts that depend only on the event (conversion applied, price, usage and scrap
  variances, payables, cost of goods sold, revenue) come from :func:`~backflush.domain.posting.post`
  itself, run once per distinct *shape* of event (type, item, quantity, price, the BOM
  versions in force) against a view with ample stock, and multiplied by the number of events
  of that shape.
* Stock value telescopes: the per-event lines Σ round(new × v) − round(old × v) of one item
  add up to round(final × v) − round(initial × v), which is what the summary posts.
* Rounding differences are the residual, as in every entry.

A run is summarised only when that identity holds: the period is open, every event is valid,
nothing waits in a pending queue, and nothing goes below zero (under ``negative_stock:
allow`` it may: the alerts are then found event by event, in order, with the per-event
wording). Otherwise :func:`summarise` returns ``None`` and the caller posts the run event by
event, which also gives the exact per-event error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import cast

from backflush.domain.aggregate import Effects, compile_effects, scaled, totals_of
from backflush.domain.books import HOLDING_ROLES, Books, change_at
from backflush.domain.costing import MasterData
from backflush.domain.errors import BackflushError
from backflush.domain.events import FLOW_TYPES, Event, Flow, FlowRun
from backflush.domain.journal import (
    Alert,
    Derivation,
    JournalEntry,
    JournalLine,
    Posting,
    StockMove,
)
from backflush.domain.numbers import ZERO, fmt_qty
from backflush.domain.policy import Method, NegativeStock, Role, Stage
from backflush.domain.posting import (
    Context,
    LedgerView,
    PostedEvent,
    post,
    price_alert,
    receipt_amounts,
    sale_revenue,
)

AMPLE = Decimal(10) ** 15
PRICED = frozenset({Role.ACCOUNTS_PAYABLE, Role.PURCHASE_PRICE_VARIANCE})
# Full events (not flows) summarised; a full receipt is posted on its own.
SUMMARISED_EVENTS = frozenset({"completion", "sale"})
LineKey = tuple[str, Role | None, str | None]  # account, role, variance family
_MOVE_ORDER = attrgetter("item", "location", "kind", "parent")  # a day's moves, in this order
_DERIVATION_ORDER = attrgetter("account", "item")
KEYED_KEPT = 500_000  # flow keys remembered with their shapes; beyond, looked up afresh
SHAPES_KEPT = 50_000  # shapes kept (with their compiled rows); beyond, a run starts afresh


class AmpleStock:
    """The ledger as posting sees it, but with plenty of every item and no pending issues.

    The rules then post exactly the amounts that do not depend on stock levels.
    """

    def __init__(self, view: LedgerView) -> None:
        self.view = view

    @property
    def locked_through(self) -> date | None:
        return None

    def prefetch(self, items: Iterable[str]) -> None:
        pass

    def on_hand(self, item: str, location: str) -> Decimal:
        return AMPLE

    def on_hand_total(self, item: str) -> Decimal:
        return AMPLE

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        return self.view.stock_totals(as_of)

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return ()

    def pending_total(self, item: str) -> Decimal:
        return ZERO

    def pending_totals(self) -> Mapping[str, Decimal]:
        return {}

    def posted(self, event_id: str) -> PostedEvent | None:
        return self.view.posted(event_id)

    def reversed_by(self, event_id: str) -> str | None:
        return self.view.reversed_by(event_id)

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        return self.view.balance(account, as_of)

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        return self.view.family_balance(family, account, as_of)

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        return self.view.cogs_content(start, end)

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        return self.view.backflushed(component, start, end)


def share(ctx: Context, event: Event, *, detail: bool = True) -> Posting:
    """One event's own posting by the rules, at standard, as if stock were ample.

    For an event posted in a summary this is its share: the entries it would have had (its
    stock-value lines at standard) and its stock moves. Reversals and ``explain`` use it.
    """
    ample = replace(ctx, view=AmpleStock(ctx.view), detail=detail)
    object.__setattr__(ample, "_books", ctx.books)  # same books: their caches carry over
    return post(ample, event)


@dataclass(frozen=True, slots=True)
class Shape:
    """What every event of one shape posts, stock value apart."""

    kind: str
    item: str
    qty: Decimal
    amounts: tuple[tuple[LineKey, Decimal], ...]
    moves: tuple[StockMove, ...]
    alerts: tuple[tuple[str, str], ...]  # code, message
    cogs: tuple[Decimal, Decimal]
    boms: frozenset[str]
    # Every effect as (column, value × 10^places) for the batch product (see _effects).
    effects: tuple[tuple[tuple[Hashable, ...], int], ...] = ()
    places: int = 0


class NotSummarisable(BackflushError):
    """The run must be posted event by event."""


def _shape(ctx: Context, event: Event) -> Shape:
    posting = share(ctx, event, detail=False)  # a shape keeps only the amounts
    if posting.pending or posting.new_cost_version is not None or posting.findings:
        raise NotSummarisable(event.id)
    amounts: dict[LineKey, Decimal] = {}
    material = conversion = ZERO
    for entry in posting.entries:
        material += entry.cogs_material
        conversion += entry.cogs_conversion
        for ln in entry.lines:
            if ln.role in HOLDING_ROLES or ln.role is Role.ROUNDING:
                continue  # stock value telescopes; rounding is the summary's residual
            if event.type == "receipt" and ln.role in PRICED:
                continue  # payable and price variance: event by event (see _in_order)
            key = (ln.account, ln.role, ln.family)
            amounts[key] = amounts.get(key, ZERO) + ln.net
    item: str = getattr(event, "item")  # noqa: B009 - every flow event has an item
    parent = item if event.type == "completion" else ""
    moves = tuple(StockMove(m.item, m.location, m.qty, m.kind, parent)
                  if m.kind == "backflush" else m for m in posting.moves)
    shape = Shape(event.type, item, getattr(event, "qty"),  # noqa: B009
                  tuple(amounts.items()), moves,
                 tuple((a.code, a.message) for a in posting.alerts), (material, conversion),
                  frozenset(e.bom for e in posting.entries if e.bom))
    columns, values = _effects(shape)
    ints, p = scaled(values)
    return replace(shape, effects=tuple(zip(columns, ints, strict=True)), places=p)


def _effects(shape: Shape) -> tuple[list[tuple[Hashable, ...]], list[Decimal]]:
    """The columns of the batch product one event of ``shape`` adds to, and by how much:
    stock moves, journal lines by item, per line the quantity and number of events behind
    it, COGS content, and the kind of event."""
    one = Decimal(1)
    out: list[tuple[tuple[Hashable, ...], Decimal]] = [(("kind", shape.kind), one)]
    out += [(("move", m.item, m.location, m.kind, m.parent), m.qty) for m in shape.moves]
    for line_key, amount in shape.amounts:
        out += [(("line", *line_key, shape.item), amount),
                (("qty", line_key[0], shape.item), shape.qty),
                (("n", line_key[0], shape.item), one)]
    if shape.cogs[0]:
        out.append((("cogs", "material"), shape.cogs[0]))
    if shape.cogs[1]:
        out.append((("cogs", "conversion"), shape.cogs[1]))
    return [c for c, _ in out], [v for _, v in out]


@dataclass
class ShapeCache:
    """Shapes evaluated so far, reused across runs and posting calls (see shape_cache)."""

    shapes: dict[Hashable, Shape] = field(default_factory=dict)
    signatures: dict[tuple[str, date], tuple[str, ...]] = field(default_factory=dict)
    keyed: dict[tuple[Hashable, ...], Shape] = field(default_factory=dict)  # flow key -> shape
    # The columns of the batch product, numbered across runs, and each shape's row of it.
    columns: dict[tuple[Hashable, ...], int] = field(default_factory=dict)
    names: list[tuple[Hashable, ...]] = field(default_factory=list)
    compiled: dict[int, tuple[Shape, Effects]] = field(default_factory=dict)

    def effects(self, shape: Shape) -> Effects:
        """``shape``'s effects on the numbered columns, compiled once."""
        found = self.compiled.get(id(shape))
        if found is not None and found[0] is shape:
            return found[1]
        cols = []
        for column, _ in shape.effects:
            j = self.columns.get(column)
            if j is None:
                j = self.columns[column] = len(self.names)
                self.names.append(column)
            cols.append(j)
        effects = compile_effects(cols, [units for _, units in shape.effects], shape.places)
        self.compiled[id(shape)] = (shape, effects)
        return effects


def shape_cache(books: Books) -> ShapeCache:
    """The shapes kept with ``books``: for every posting call on the same master data, policy
    and cost version (what the books are made of), so that a plant posting batch after batch
    works each shape out once. The books are made of the very master data, policy and costs
    objects (not merely the same cost version number: a rolled-back cost change and a later
    one can share a number), so other ones find other books and start afresh; beyond
    SHAPES_KEPT shapes, so does the next run (this is called before a run, never during
    one)."""
    found = books.memo.get(("shapes",))
    if not isinstance(found, ShapeCache) or len(found.shapes) > SHAPES_KEPT:
        found = ShapeCache()
        books.memo[("shapes",)] = found
    return found


def bom_signature(master: MasterData, item: str, when: date) -> tuple[str, ...]:
    """The BOM versions an explosion of ``item`` on ``when`` uses (phantoms included)."""
    keys: list[str] = []

    def walk(code: str) -> None:
        version = master.boms.on(code, when)
        if version is None:
            return
        keys.append(version.key)
        for line in version.lines:
            comp = master.items.get(line.component)
            if comp is not None and comp.phantom:
                walk(line.component)

    walk(item)
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class DaySummary:
    date: date
    entry: JournalEntry | None
    moves: tuple[StockMove, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    days: tuple[DaySummary, ...]
    alerts: tuple[tuple[int, Alert], ...]  # index in the run, alert; in posting order
    boms: frozenset[str]
    cost_version: int


# A flow's key: (type, date, item, qty). Its price is applied event by event (_in_order).
_FLOW_KEY = itemgetter(slice(1, 5))


def _key(event: Event | Flow) -> tuple[Hashable, ...]:
    """(type, date, rest): events with equal keys post the same amounts."""
    if type(event) is Flow:
        return event[1:5]
    assert isinstance(event, Event)
    return (event.type, event.date, replace(event, id="#"))


def warm(ctx: Context, keys: Iterable[tuple[Hashable, ...]]) -> None:
    """Work out the shapes of these flow keys ahead (e.g. while the rest of a run is still
    being read); :func:`summarise` then finds them done. Keys it cannot summarise are left
    for it to find."""
    if ctx.policy.method is Method.SEQUENTIAL:
        return
    cache = shape_cache(ctx.books)
    locked = ctx.view.locked_through
    for key in keys:
        try:
            _lookup(ctx, key, cache, locked)
        except BackflushError:
            continue


def summarise(ctx: Context, run: Sequence[Event | Flow]) -> Summary | None:
    """The summary of ``run`` (completions, receipts, sales), or None: post it event by event."""
    if ctx.policy.method is Method.SEQUENTIAL or not run:
        return None
    cache = shape_cache(ctx.books)
    counts: Mapping[tuple[Hashable, ...], int]
    if isinstance(run, FlowRun):
        counts = cast(Mapping[tuple[Hashable, ...], int], run.counts)
    elif all(type(ev) is Flow for ev in run):
        counts = Counter(map(_FLOW_KEY, cast(Sequence[Flow], run)))
    else:
        counts = Counter(_key(ev) for ev in run)
    locked = ctx.view.locked_through
    shapes: dict[tuple[Hashable, ...], Shape] = {}
    try:
        for key in counts:
            shapes[key] = _lookup(ctx, key, cache, locked)
    except BackflushError:
        return None

    # Stock: what every (item, location) gains and loses over the run.
    per_shape: dict[int, tuple[Shape, int]] = {}
    for key, n in counts.items():
        shape = shapes[key]
        _, before = per_shape.get(id(shape), (shape, 0))
        per_shape[id(shape)] = (shape, before + n)
    ctx.view.prefetch({m.item for s, _ in per_shape.values() for m in s.moves})
    losses: dict[tuple[str, str], Decimal] = {}
    for shape, n in per_shape.values():
        if shape.kind == "receipt" and ctx.view.pending_total(shape.item):
            return None  # the receipt clears short issues: event by event
        for m in shape.moves:
            if m.qty < 0:
                where = (m.item, m.location)
                losses[where] = losses.get(where, ZERO) + m.qty * n
    short = {where for where, lost in losses.items() if ctx.view.on_hand(*where) + lost < 0}
    if short and ctx.policy.negative_stock is not NegativeStock.ALLOW:
        return None
    alerts: list[tuple[int, Alert]] = []
    priced: dict[date, _Priced] = {}
    if short or any(s.alerts for s, _ in per_shape.values()) \
            or (run.priced if isinstance(run, FlowRun)
                else any(type(ev) is Flow and ev.unit_price is not None for ev in run)):
        alerts, priced = _in_order(ctx, run, shapes, short)
    days = _days(ctx, counts, shapes, [s for s, _ in per_shape.values()], priced, cache)
    boms = frozenset().union(*(s.boms for s, _ in per_shape.values()))
    return Summary(tuple(days), tuple(alerts), boms, ctx.costs.number)


def _days(ctx: Context, counts: Mapping[tuple[Hashable, ...], int],
          shapes: Mapping[tuple[Hashable, ...], Shape], used: list[Shape],
          priced: Mapping[date, _Priced], cache: ShapeCache) -> list[DaySummary]:
    """One summary per day: the per-day totals of every effect, by one sparse product."""
    day_list: list[date] = sorted({key[1] for key in counts})  # type: ignore[misc]
    row_of: dict[Hashable, int] = {day: i for i, day in enumerate(day_list)}
    col_of = {id(shape): i for i, shape in enumerate(used)}
    matrix = [(row_of[key[1]], col_of[id(shapes[key])], n) for key, n in counts.items()]
    names = cache.names
    per_day: list[dict[tuple[Hashable, ...], Decimal]] = [{} for _ in day_list]
    compiled = [cache.effects(shape) for shape in used]
    for (r, j), value in totals_of(matrix, len(day_list), compiled, len(names)).items():
        per_day[r][names[j]] = value

    books, minor = ctx.books, ctx.policy.minor_unit
    stock: dict[str, Decimal] = {}
    out = []
    for day, sums in zip(day_list, per_day, strict=True):
        lines: dict[LineKey, Decimal] = {}
        derivations = []
        moves = []
        deltas: dict[str, Decimal] = {}
        for column, value in sums.items():
            tag = column[0]
            if tag == "move":
                _, item, location, kind, parent = cast(tuple[str, str, str, str, str], column)
                moves.append(StockMove(item, location, value, kind, parent))
                deltas[item] = deltas.get(item, ZERO) + value
            elif tag == "line":
                account, role, family, line_item = column[1:]
                lk = (str(account), role if isinstance(role, Role) else None,
                      family if isinstance(family, str) else None)
                lines[lk] = lines.get(lk, ZERO) + value
                derivations.append(Derivation(
                    str(line_item), sums.get(("qty", account, line_item), ZERO),
                    f"{sums.get(('n', account, line_item), ZERO)} events, each rounded", value,
                    str(account)))
        moves.sort(key=_MOVE_ORDER)
        derivations.sort(key=_DERIVATION_ORDER)
        extra = priced.get(day)
        if extra is not None:
            for lk, amount in extra.lines.items():
                lines[lk] = lines.get(lk, ZERO) + amount
            derivations += [Derivation(item, qty, f"{int(n)} events, each priced", amount, acc)
                            for (acc, item), (qty, amount, n) in sorted(extra.derivations.items())]
        for item in sorted(deltas):
            before = stock[item] if item in stock else ctx.view.on_hand_total(item)
            after = stock[item] = before + deltas[item]
            held = books.held(item)
            if held is None:
                continue
            role, unit = held
            amount = change_at(unit, minor, before, after)
            if amount:
                key = (ctx.name(role), role, None)
                lines[key] = lines.get(key, ZERO) + amount
                derivations.append(Derivation(
                    item, deltas[item], f"on hand {fmt_qty(before)} -> {fmt_qty(after)} at "
                    f"{unit}", amount, key[0]))
        residual = sum(lines.values(), ZERO)
        if residual:
            key = (ctx.name(Role.ROUNDING), Role.ROUNDING, None)
            lines[key] = lines.get(key, ZERO) - residual
        kinds = {k: int(sums.get(("kind", k), ZERO)) for k in FLOW_TYPES}
        n_events = sum(kinds.values())
        what = ", ".join(f"{kinds[k]} {k}{'s' if kinds[k] != 1 else ''}"
                         for k in FLOW_TYPES if kinds[k])
        entry = _entry(ctx, day, f"Summary of {n_events} events on {day}: {what}", lines,
                       derivations, sums.get(("cogs", "material"), ZERO),
                       sums.get(("cogs", "conversion"), ZERO))
        out.append(DaySummary(day, entry, tuple(m for m in moves if m.qty)))
    return out


def _lookup(ctx: Context, key: tuple[Hashable, ...], cache: ShapeCache,
            locked: date | None) -> Shape:
    kind, day = str(key[0]), key[1]
    assert isinstance(day, date)
    if locked is not None and day <= locked:
        raise NotSummarisable("closed period")
    known = cache.keyed.get(key)
    if known is not None:
        return known
    full = key[2] if len(key) == 3 else None  # a full event, or a flow's fields
    item = str(getattr(full, "item")) if full is not None else str(key[2])  # noqa: B009
    sig: tuple[str, ...] = ()
    if kind == "completion":
        found = cache.signatures.get((item, day))
        if found is None:
            found = cache.signatures[(item, day)] = bom_signature(ctx.master, item, day)
        sig = found
    rest = (replace(full, date=date.min),) if isinstance(full, Event) else key[2:]
    shape_key = (kind, *rest, sig)
    shape = cache.shapes.get(shape_key)
    if shape is None:
        if isinstance(full, Event):
            event = replace(full, date=day)
        else:
            qty = key[3]
            assert isinstance(qty, Decimal)
            if item not in ctx.master.items or item not in ctx.costs.costs:
                raise NotSummarisable(f"unknown item {item}")  # per event: the exact error
            price = ctx.costs[item].unit_cost if kind == "receipt" else None
            event = Flow("#", kind, day, item, qty, price).event()
        shape = cache.shapes[shape_key] = _shape(ctx, event)
    if len(cache.keyed) >= KEYED_KEPT:
        cache.keyed.clear()
    cache.keyed[key] = shape
    return shape


@dataclass
class _Priced:
    """A day's payables, price variances and revenue, priced event by event."""

    lines: dict[LineKey, Decimal] = field(default_factory=dict)
    derivations: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)

    def add(self, role: Role, ctx: Context, item: str, qty: Decimal, amount: Decimal) -> None:
        if not amount:
            return
        key = (ctx.name(role), role, None)
        self.lines[key] = self.lines.get(key, ZERO) + amount
        d = self.derivations.setdefault((key[0], item), [ZERO, ZERO, ZERO])
        d[0] += qty
        d[1] += amount
        d[2] += 1


def _in_order(ctx: Context, run: Sequence[Event | Flow],
              shapes: Mapping[tuple[Hashable, ...], Shape], short: set[tuple[str, str]]
              ) -> tuple[list[tuple[int, Alert]], dict[date, _Priced]]:
    """What must be worked out event by event, in order: alerts (with the per-event rules'
    wording and order), and the amounts that depend on an event's price: the payable and
    price variance of a receipt (at its stock value change, from the running balance, as
    the per-event rule has it) and the revenue of a sale."""
    policy = ctx.policy
    purchase = policy.triggered(Stage.PURCHASE)
    books = ctx.books
    running = {where: ctx.view.on_hand(*where) for where in short}
    received = {s.item for s in shapes.values() if s.kind == "receipt"} if purchase else set()
    totals = {item: ctx.view.on_hand_total(item) for item in received}
    tracked: dict[int, tuple[StockMove, ...]] = {}
    # Per shape, its moves at the places that may go short: (qty, place, the start of the
    # alert's words for it when it takes stock out).
    watching: dict[int, tuple[tuple[Decimal, tuple[str, str], str | None], ...]] = {}
    out: list[tuple[int, Alert]] = []
    priced: dict[date, _Priced] = {}
    for i, ev in enumerate(run):
        shape = shapes[_key(ev)]
        if running:
            watched = watching.get(id(shape))
            if watched is None:  # this shape's moves at the places that may go short
                watched = watching[id(shape)] = tuple(
                    (m.qty, (m.item, m.location),
                     f"{m.item} at {m.location}: needs {fmt_qty(-m.qty)}, has "
                     if m.qty < 0 else None)
                    for m in sorted(shape.moves, key=lambda m: m.item)
                    if (m.item, m.location) in running)
            shorts = [words + fmt_qty(running[where]) for qty, where, words in watched
                      if words is not None and -qty > running[where]]
            for qty, where, _ in watched:
                running[where] += qty
            if shorts:
                out.append((i, Alert(ev.id, "negative_stock",
                                     "stock went below zero: " + "; ".join(shorts))))
        at_standard = ZERO
        if totals:
            moves = tracked.get(id(shape))
            if moves is None:
                moves = tracked[id(shape)] = tuple(m for m in shape.moves if m.item in totals)
            for m in moves:
                old = totals[m.item]
                new = totals[m.item] = old + m.qty
                if shape.kind == "receipt" and m.item == shape.item:
                    at_standard += books.valuation(m.item, new) - books.valuation(m.item, old)
        if shape.alerts:
            out.extend((i, Alert(ev.id, code, message)) for code, message in shape.alerts)
        if type(ev) is not Flow or ev.unit_price is None:
            continue
        day = priced.setdefault(ev.date, _Priced())
        if ev.type == "receipt":
            if purchase:
                payable, ppv = receipt_amounts(ctx, ev.qty, ev.unit_price, at_standard)
                day.add(Role.ACCOUNTS_PAYABLE, ctx, ev.item, ev.qty, -payable)
                day.add(Role.PURCHASE_PRICE_VARIANCE, ctx, ev.item, ev.qty, ppv)
            else:
                alert = price_alert(ctx, ev.id, ev.item, ev.unit_price)
                if alert is not None:
                    out.append((i, alert))
        elif ev.type == "sale":
            revenue = sale_revenue(ctx, ev.qty, ev.unit_price)
            day.add(Role.ACCOUNTS_RECEIVABLE, ctx, ev.item, ev.qty, revenue)
            day.add(Role.SALES, ctx, ev.item, ev.qty, -revenue)
    return out, priced


def _entry(ctx: Context, day: date, description: str, lines: Mapping[LineKey, Decimal],
           derivations: list[Derivation], material: Decimal, conversion: Decimal
           ) -> JournalEntry | None:
    built = []
    for (account, role, family), amount in lines.items():
        if amount > 0:
            built.append(JournalLine(account, amount, ZERO, role, "summary", family))
        elif amount < 0:
            built.append(JournalLine(account, ZERO, -amount, role, "summary", family))
    if not built:
        return None
    built.sort(key=lambda ln: (ln.debit == 0,))
    return JournalEntry(f"summary {day.isoformat()}", day, "summary", description,
                        tuple(built), tuple(derivations), ctx.costs.number, "", material,
                        conversion)
