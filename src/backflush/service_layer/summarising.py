"""Runs of completions, receipts and sales posted in summary entries, one per day.

A run's events are grouped by *shape* (the event without its id; for a completion, with the
BOM versions in effect on its date): events of one shape have the same draft by the rules,
so the draft is worked out once per shape and counted (:mod:`backflush.domain.summary`
adds them up, :func:`backflush.domain.drafts.settle` values and checks the day's entry).
Every event is still logged one by one (idempotent, explainable, reversible).

A run is summarised only when that sum is exact: no event of it in a closed period or
before the ledger's first day, none refused by its rule, no issue parked or cleared, and no
place that can go short (unless the policy allows negative stock: the alerts are then found
event by event, in order, by the same function the per-event posting uses). Otherwise the
run is posted event by event, which also gives the exact per-event error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal, localcontext
from itertools import repeat
from operator import add, mul
from typing import Protocol

from backflush.domain.alerts import QueueAges
from backflush.domain.drafts import settle
from backflush.domain.errors import BackflushError, PostingError
from backflush.domain.events import Event
from backflush.domain.inprocess import is_in_process
from backflush.domain.journal import Alert, Posting
from backflush.domain.numbers import EXACT, ZERO
from backflush.domain.policy import NegativeStock
from backflush.domain.rules import stock
from backflush.domain.rules.context import RuleContext, check_open
from backflush.domain.summary import Shape, aggregate
from backflush.domain.valuation import Books
from backflush.service_layer import kanban
from backflush.service_layer.batch import BatchResult, Flows, Located
from backflush.service_layer.duplicates import refuse_changed, refuse_repeated
from backflush.service_layer.ports import EventRows, IdsTaken
from backflush.service_layer.shapes import Drafts
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView


class Poster(Protocol):
    """What the summariser needs of the posting call it works for."""

    uow: UnitOfWork
    view: StoreView
    books: Books
    drafts: Drafts
    result: BatchResult
    done: int

    def single(self, item: Event | Located) -> None: ...

    def check_limits(self, event_id: str, accounts: set[str], items: set[str]) -> None: ...

PLACEHOLDER = "#"  # a template's id


class NotSummarisable(BackflushError):
    """The run must be posted event by event."""


class _Run:
    """A run's events in columns: ids, and for each its *slot*: a template (an event of its
    shape, its id a placeholder) and the date of the events of that slot."""

    def __init__(self, items: Sequence[Event | Located | Flows]) -> None:
        self.items = items
        self.ids: list[str] = []
        self.index: list[int] = []  # the slot of each event
        self.templates: list[Event] = []  # each slot's template
        self.dates: list[date] = []  # each slot's date
        # Slots by template object (a reader's flows share theirs; the templates are kept
        # in self.templates, so no id is reused) and, for single events, by content.
        objects: dict[Hashable, int] = {}
        contents: dict[Hashable, int] = {}

        def slot(template: Event, day: date, known: dict[Hashable, int], key: Hashable) -> int:
            found = known.get(key)
            if found is None:
                found = known[key] = len(self.templates)
                self.templates.append(template)
                self.dates.append(day)
            return found

        for item in items:
            if isinstance(item, Flows):
                self.ids.extend(item.ids)
                tpl = item.templates
                if item.days is None:
                    used = {t: slot(tpl[t], tpl[t].date, objects, (id(tpl[t]), tpl[t].date))
                            for t in dict.fromkeys(item.index)}
                    self.index.extend(map(used.__getitem__, item.index))
                    continue
                width, dates = len(item.dates), item.dates
                keys = list(map(add, map(mul, item.index, repeat(width)), item.days))
                pairs = {k: slot(tpl[k // width], dates[k % width], objects,
                                 (id(tpl[k // width]), dates[k % width]))
                         for k in dict.fromkeys(keys)}
                self.index.extend(map(pairs.__getitem__, keys))
            else:
                event = item.event if isinstance(item, Located) else item
                template = replace(event, id=PLACEHOLDER)
                self.index.append(slot(template, event.date, contents, (template, event.date)))
                self.ids.append(event.id)

    def __len__(self) -> int:
        return len(self.ids)

    def located(self, position: int) -> Located:
        """The event at ``position`` in the run, with where it was read."""
        at = 0
        for item in self.items:
            size = len(item) if isinstance(item, Flows) else 1
            if position < at + size:
                if isinstance(item, Flows):
                    return item.located(position - at)
                return item if isinstance(item, Located) else Located(item)
            at += size
        raise IndexError(position)

    def event(self, position: int) -> Event:
        slot = self.index[position]
        return replace(self.templates[slot], id=self.ids[position], date=self.dates[slot])

    def without(self, positions: set[int]) -> list[Event | Located | Flows]:
        """The run's items without the events at ``positions``."""
        keep = [i for i in range(len(self.ids)) if i not in positions]
        if not keep:
            return []
        return [Flows([self.ids[i] for i in keep], [self.index[i] for i in keep],
                      self.templates, days=[self.index[i] for i in keep],
                      dates=self.dates)]


def same_slot(run: _Run, a: int, b: int) -> bool:
    """Whether the events at ``a`` and ``b`` of the run have the same content (slots of
    equal templates on the same date: two flows may each have a copy of a template)."""
    sa, sb = run.index[a], run.index[b]
    return run.dates[sa] == run.dates[sb] and run.templates[sa] == run.templates[sb]


class Summariser:
    def __init__(self, session: Poster) -> None:
        self.session = session

    # ---------------------------------------------------------------- shapes
    def shapes_of(self, templates: Sequence[Event], days: Sequence[date]) -> list[Shape]:
        """The shape of each slot (a template on a date); NotSummarisable when one cannot be
        summarised."""
        session = self.session
        ctx = RuleContext(session.books, session.view, detail=False)
        if templates:  # the period and first-day checks, at the run's first and last dates
            for day in (min(days), max(days)):
                try:
                    check_open(ctx, replace(templates[0], date=day))
                except PostingError as exc:
                    raise NotSummarisable(str(exc)) from None
        shapes = []
        for template, day in zip(templates, days, strict=True):
            try:
                shape = session.drafts.shape(ctx, template, day)
            except PostingError as exc:
                raise NotSummarisable(str(exc)) from None
            if not shape.summarisable:
                raise NotSummarisable("depends on stock")
            shapes.append(shape)
        return shapes

    # ---------------------------------------------------------------- a run
    def post(self, items: Sequence[Event | Located | Flows]) -> None:
        session = self.session
        run = _Run(items)
        run, dropped = self._dedupe(run)
        if not len(run):
            return
        try:
            shapes = self.shapes_of(run.templates, run.dates)
            counts = Counter(run.index)  # events a slot
            alerts = self._alerts(run, shapes, counts)
        except NotSummarisable:
            self._one_by_one(run)
            return
        uow = session.uow
        try:
            with uow.savepoint():
                self._write(run, shapes, alerts, counts)
        except IdsTaken:
            self._retake(run)
            return
        session.result.posted += len(run)
        session.result.summarised += len(run)
        session.done += len(run) + dropped

    def _one_by_one(self, run: _Run) -> None:
        for item in run.items:
            if isinstance(item, Flows):
                for i in range(len(item)):
                    self.session.single(item.located(i))
            else:
                self.session.single(item)

    def _dedupe(self, run: _Run) -> tuple[_Run, int]:
        """The run without ids it repeats: the same content again is a duplicate (reported),
        other content is refused."""
        if len(set(run.ids)) == len(run.ids):
            return run, 0
        first: dict[str, int] = {}
        drop: set[int] = set()
        for position, event_id in enumerate(run.ids):
            at = first.setdefault(event_id, position)
            if at == position:
                continue
            if run.index[at] != run.index[position] and not same_slot(run, at, position):
                raise refuse_repeated(run.located(position), run.located(at))
            self.session.result.duplicate(event_id)
            drop.add(position)
        return _Run(run.without(drop)), len(drop)

    def _retake(self, run: _Run) -> None:
        """Some ids of the run were posted before: nothing of it was written. Skip the
        duplicates (refusing an id reused with other content) and post the rest."""
        taken = self.session.uow.events.find(run.ids)
        drop = set()
        for position, event_id in enumerate(run.ids):
            stored = taken.get(event_id)
            if stored is None:
                continue
            if run.event(position).content() != stored.event.content():
                where = run.located(position)
                exc = refuse_changed(where.event, stored.event)
                exc.locate(where.source, where.line, where.entry)
                raise exc
            self.session.result.duplicate(event_id)
            drop.add(position)
        if not drop:  # pragma: no cover - a store raises IdsTaken only for taken ids
            raise AssertionError("the event log refused ids it does not hold")
        self.session.done += len(drop)
        rest = run.without(drop)
        if rest:
            self.post(rest)

    def _alerts(self, run: _Run, shapes: list[Shape], counts: Counter[int]) -> list[Alert]:
        """The run's alerts, event by event in order; NotSummarisable when stock could go
        short and the policy does not allow it, or parked issues wait for a received item."""
        session = self.session
        view, policy = session.view, session.books.policy
        per_shape: dict[int, tuple[Shape, int]] = {}
        for t, n in counts.items():
            shape = shapes[t]
            _, before = per_shape.get(id(shape), (shape, 0))
            per_shape[id(shape)] = (shape, before + n)
        losses: dict[tuple[str, str], Decimal] = {}
        items: set[str] = set()
        with localcontext(EXACT):
            for shape, n in per_shape.values():
                if shape.kind == "receipt" and view.pending_total(shape.item):
                    raise NotSummarisable("the receipt clears parked issues")
                for m in shape.draft.moves:
                    items.add(m.item)
                    if m.qty < 0:
                        place = (m.item, m.location)
                        losses[place] = losses.get(place, ZERO) + m.qty * n
        session.uow.stock.prefetch(sorted(items))
        short = {place for place, lost in losses.items() if view.on_hand(*place) + lost < 0}
        master = session.books.master
        if any(stock.item_rule(master, policy, *place) is not NegativeStock.ALLOW
               or is_in_process(place[1]) for place in short):  # (a short issue by hand:
            raise NotSummarisable("stock may go short")         # a usage variance, by event)
        queue = view.pending_issues() if policy.alerts.pending_age_days is not None else ()
        ages = QueueAges(policy.alerts, [(i, loc, src, since) for i, loc, src, since, _ in queue],
                         view.last_date()) if queue else None
        if not short and ages is None and not any(s.draft.alerts for s in shapes):
            return []
        running = {place: view.on_hand(*place) for place in short}
        watched = [tuple(m for m in s.draft.moves if (m.item, m.location) in short)
                   for s in shapes]
        out: list[Alert] = []
        with localcontext(EXACT):
            for event_id, t in zip(run.ids, run.index, strict=True):
                if short and watched[t]:
                    shorts = stock.shortages(watched[t], view.on_hand, running)
                    out.extend(Alert(event_id, code, message)
                               for code, message in stock.shortage_alert(policy, shorts))
                out.extend(Alert(event_id, code, message)
                           for code, message in shapes[t].draft.alerts)
                if ages is not None:  # as the posting rules add it, after the event's own
                    out.extend(Alert(event_id, code, message)
                               for code, message in ages.step(run.dates[t]))
        return out

    def _write(self, run: _Run, shapes: list[Shape], alerts: list[Alert],
               counts: Counter[int]) -> None:
        session = self.session
        uow, books, view = session.uow, session.books, session.view
        days: dict[date, list[tuple[Shape, int]]] = {}
        for t in counts:  # slots in order of first appearance
            days.setdefault(run.dates[t], []).append((shapes[t], counts[t]))
        running: dict[str, Decimal] = {}

        def on_hand(item: str) -> Decimal:
            return running[item] if item in running else view.on_hand_total(item)

        postings: list[tuple[date, Posting]] = []
        with localcontext(EXACT):
            for day, day_shapes in days.items():
                posting = settle(books, aggregate(day, day_shapes), f"summary {day}", day,
                                 on_hand, lambda item: ZERO)
                for m in posting.moves:
                    running[m.item] = on_hand(m.item) + m.qty
                postings.append((day, posting))
        written = uow.journal.append(None, [e for _, p in postings for e in p.entries])
        entry_of: dict[date, int] = {}
        for day, posting in postings:
            entry_of[day] = written.pop(0) if posting.entries else 0
        uow.events.append_many(EventRows(run.ids, run.index, run.templates,
                                         [entry_of[day] for day in run.dates], run.dates),
                               books.costs.number)
        for day, posting in postings:
            uow.stock.apply(None, day, posting.moves)
        ordered = {t for t, tpl in enumerate(run.templates) if getattr(tpl, "order", "")}
        for position in (i for i, t in enumerate(run.index) if t in ordered) if ordered else ():
            kanban.track(uow, run.event(position))  # completions that name their order
        if alerts:
            uow.events.add_alerts(None, alerts)
        first = run.located(0).event.id
        session.check_limits(first, {ln.account for _, p in postings for e in p.entries
                                     for ln in e.lines}, set(running))
        session.result.days.update(entry_of)

