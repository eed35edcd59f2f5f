"""Summary entries are the sum of the per-event entries (domain/summary.py).

The same month of events, posted in one batch, once with an entry per event and once with
summary entries (and ``auto``), gives the same ledger: every balance, the stock, the parked
issues, the alerts and findings; or, when the batch is refused, the same refusal. Plants,
policies and streams are drawn as in the property tests (every trigger-point variant,
conversion treatment, negative-stock rule, disposition, and every event type).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backflush.bootstrap import memory_ledger
from backflush.domain.errors import BackflushError
from backflush.domain.events import Event
from backflush.domain.policy import Journal, Policy
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger
from tests.model import START, Plant, nonzero, plants, policies, streams
from tests.support import Reader


def posted(plant: Plant, policy: Policy, batches: list[list[Event]]) -> dict[str, Any]:
    ledger = memory_ledger()
    set_up_ledger(ledger.unit_of_work(), plant.master, policy, START)
    reader = Reader(ledger.unit_of_work)
    refused = None
    for batch in batches:
        try:
            post_events(ledger.unit_of_work(), batch)
        except BackflushError as exc:
            refused = (type(exc).__name__, getattr(exc, "event_id", None))
    assert reader.verify() == []
    return {"balances": nonzero(reader.balances()), "stock": nonzero(reader.stock()),
            "pending": nonzero(reader.pending_totals()),
            "alerts": Counter(reader.alerts()), "findings": Counter(reader.findings()),
            "events": reader.event_ids(), "refused": refused}


def feasible(plant: Plant, policy: Policy, events: list[Event]) -> list[Event]:
    """The events that post when posted one by one (the others are refused)."""
    ledger = memory_ledger()
    set_up_ledger(ledger.unit_of_work(), plant.master, policy, START)
    kept = []
    for event in events:
        try:
            post_events(ledger.unit_of_work(), [event])
        except BackflushError:
            continue
        kept.append(event)
    return kept


def cut(draw: st.DrawFn, events: list[Event]) -> list[list[Event]]:
    """The stream in a few consecutive batches."""
    points = sorted(draw(st.lists(st.integers(0, len(events)), max_size=3)))
    bounds = [0, *points, len(events)]
    return [events[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), plant=plants(), policy=policies())
def test_summary_entries_add_up_to_the_per_event_ledger(data: st.DataObject, plant: Plant,
                                                        policy: Policy) -> None:
    events = data.draw(streams(plant))
    if data.draw(st.booleans()):  # mostly batches that post
        events = feasible(plant, dataclasses.replace(policy, journal=Journal.PER_EVENT), events)
    batches = cut(data.draw, events)
    per_event = posted(plant, dataclasses.replace(policy, journal=Journal.PER_EVENT), batches)
    summary = posted(plant, dataclasses.replace(policy, journal=Journal.SUMMARY), batches)
    assert summary == per_event
    auto = posted(plant, dataclasses.replace(policy, journal=Journal.AUTO), batches)
    assert auto == per_event


def test_a_part_of_a_column_of_flows_keeps_each_event_as_it_was() -> None:
    from datetime import date
    from decimal import Decimal

    from backflush.domain.events import Receipt
    from backflush.service_layer.batch import Flows

    template = Receipt(id="t", date=date(2000, 1, 1), item="LEG", qty=Decimal(1),
                       unit_price=Decimal(1))
    flows = Flows(["R1", "R2", "R3", "R9"], [0, 0, 0, 0], [template], "ev.jsonl",
                  range(1, 5), 0, [0, 0, 0, 1], [date(2026, 12, 2), date(2026, 11, 30)])
    for start in range(4):
        for stop in range(start + 1, 5):
            part = flows.part(start, stop)
            assert [part.event(i) for i in range(len(part))] == \
                [flows.event(i) for i in range(start, stop)]
            assert [part.located(i).line for i in range(len(part))] == list(range(start + 1,
                                                                                  stop + 1))
