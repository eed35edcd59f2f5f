"""Summary posting (journal: summary) gives the ledger the per-event rules give, in total.

Generated plants are posted twice: event by event in memory (the reference), and in summary
entries on memory, SQLite and PostgreSQL. Balances, stock, pending issues, alerts, findings,
the event log and the close must be identical.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backflush.adapters import tabular
from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.synthetic import PlantSpec, generate
from backflush.domain import summary as summary_module
from backflush.domain.bom import Boms
from backflush.domain.costing import MasterData
from backflush.domain.errors import BackflushError, DuplicateEventError, NegativeStockError
from backflush.domain.events import Close, Completion, CostChange, Event, Flow, Reversal
from backflush.domain.policy import Journal, NegativeStock, Policy, Stage
from backflush.service_layer import reports, services
from tests.conftest import new_backend

D = Decimal
pytestmark = pytest.mark.usefixtures("backend")


def plant(tmp_path: Path, seed: int, events: int = 1200) -> tuple[MasterData, list[Event | Flow]]:
    out = tmp_path / f"plant{seed}"
    generate(PlantSpec(items=60, depth=4, fan_out=4, events=events, seed=seed), out)
    items = tabular.read_items(out / "items.csv", MasterData({}, Boms({})))
    master = MasterData({i.code: i for i in items}, Boms.of(tabular.read_boms(out / "boms.csv")),
                        {w.code: w for w in tabular.read_work_centers(out / "work-centers.csv")},
                        tabular.read_routings(out / "routings.csv"))
    return master, list(tabular.stream_events(out / "events.jsonl", master))


def state(ledger: Any) -> dict[str, Any]:
    return {
        "balances": {k: v for k, v in ledger.balances().items() if v},
        "stock": {k: v for k, v in ledger.stock().items() if v},
        "pending": dict(ledger.pending_totals()),
        "alerts": ledger.alerts(),
        "findings": ledger.findings(),
        "events": [e.content() | {"id": e.id} for e in ledger.events()],
        "closed": ledger.closed_periods(),
    }


def reference(master: MasterData, policy: Policy, events: list[Event | Flow]) -> dict[str, Any]:
    uow = InMemoryUnitOfWork()
    services.set_up_ledger(uow, master, replace(policy, journal=Journal.PER_EVENT),
                           date(2026, 11, 1))
    services.post_events(uow, events)
    services.post_events(uow, [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert reports.verify(uow.ledger) == []
    return state(uow.ledger)


def summarised(master: MasterData, policy: Policy, events: list[Event | Flow],
               run_size: int = 97) -> tuple[dict[str, Any], services.BatchResult]:
    b = new_backend()
    services.set_up_ledger(b.uow(), master, replace(policy, journal=Journal.SUMMARY),
                           date(2026, 11, 1))
    with b.uow() as uow:
        result = services.post_events_in(uow, events, run_size=run_size)
        uow.commit()
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    ledger = b.ledger()
    assert reports.verify(ledger) == []
    return state(ledger), result


POLICIES = {
    "ACD allow": Policy(),
    "AD": Policy(triggers=frozenset({Stage.PURCHASE, Stage.SALE})),
    "CD": Policy(triggers=frozenset({Stage.COMPLETION, Stage.SALE})),
    "D prorate": Policy(triggers=frozenset({Stage.SALE})),
    "ACD queue": Policy(negative_stock=NegativeStock.QUEUE),
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_summary_and_per_event_ledgers_are_identical(tmp_path: Path, name: str) -> None:
    master, events = plant(tmp_path, seed=5)
    policy = POLICIES[name]
    want = reference(master, policy, events)
    got, result = summarised(master, policy, events)
    assert result.posted == len(events)
    if policy.negative_stock is not NegativeStock.QUEUE:
        assert result.summarised > len(events) * 0.9  # counts are posted one by one
    for key in want:
        assert got[key] == want[key], key


def test_a_plant_with_stock_summarises_every_flow_and_matches(tmp_path: Path) -> None:
    """Enough stock first (no alert path), then a long run of completions and sales."""
    master, events = plant(tmp_path, seed=8, events=2000)
    receipts = [Flow(f"R{i}", "receipt", date(2026, 11, 1), code, D(100_000), D("1.25"))
                for i, code in enumerate(sorted(c for c, it in master.items.items()
                                                if not it.made))]
    flows = receipts + [e for e in events if not isinstance(e, Event) or e.type != "count"]
    want = reference(master, Policy(), flows)
    got, result = summarised(master, Policy(), flows, run_size=500)
    assert result.summarised == len(flows)
    assert got == want


@pytest.mark.parametrize("kept", [summary_module.SHAPES_KEPT, 3])
def test_batches_posted_one_after_another_keep_their_shapes_and_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    """A plant posting batch after batch: shapes worked out once and kept with the books
    (a later batch of the same shapes works none out), until a cost change, after which
    they are worked out afresh at the new costs. The ledger is the per-event one, also when
    the kept shapes are dropped before nearly every run (``kept`` = 3)."""
    monkeypatch.setattr(summary_module, "SHAPES_KEPT", kept)
    master, events = plant(tmp_path, seed=8, events=1500)
    receipts = [Flow(f"R{i}", "receipt", date(2026, 11, 1), code, D(100_000), D("1.25"))
                for i, code in enumerate(sorted(c for c, it in master.items.items()
                                                if not it.made))]
    flows = [e for e in events if isinstance(e, Flow) and e.type == "completion"]
    k = len(flows) // 3
    first, second, third = flows[:k], flows[k:2 * k], flows[2 * k:]
    assert third
    part = next(line.component for v in master.boms.versions[flows[0].item]
                for line in v.lines if not master.items[line.component].made)
    change = CostChange(id="CC-1", date=date(2026, 11, 1), item=part,
                        standard_cost=D("3.1415"))
    batches: list[list[Event | Flow]] = [receipts + first, list(second), [change], list(third)]
    want = reference(master, Policy(), [e for batch in batches for e in batch])

    worked_out: list[int] = []
    original = summary_module._shape

    def counted(ctx: Any, event: Event) -> Any:
        worked_out[-1] += 1
        return original(ctx, event)

    monkeypatch.setattr(summary_module, "_shape", counted)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, Policy(journal=Journal.SUMMARY), date(2026, 11, 1))
    for batch in batches:
        worked_out.append(0)
        services.post_events(b.uow(), batch)
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert reports.verify(b.ledger()) == []
    assert state(b.ledger()) == want
    # A shape is an item, a quantity and the BOM versions in force on the day: the second
    # batch works out only the shapes the first did not meet.
    shapes_of = {(f.item, f.qty) for f in first}
    new_in_second = {(f.item, f.qty) for f in second} - shapes_of
    assert worked_out[0] >= len(shapes_of)
    assert worked_out[3] >= len({(f.item, f.qty) for f in third})  # new costs: afresh
    if kept == 3:
        assert worked_out[1] >= len({(f.item, f.qty) for f in second})  # dropped: afresh
        return
    assert worked_out[1] <= len({(f.item, f.qty, f.date) for f in second
                                 if (f.item, f.qty) in new_in_second})


def test_shapes_of_a_rolled_back_cost_change_are_not_reused(tmp_path: Path) -> None:
    """A batch with a cost change fails and rolls back after its shapes were worked out at
    the new costs; a later cost change of the same item gets the same version number. Its
    completions must be costed at the later costs, not with the rolled-back shapes. (Under
    triggers C and D a completion's payable for its parts, part of its shape, is at the
    parts' standard cost.)"""
    policy = POLICIES["CD"]
    master, events = plant(tmp_path, seed=8, events=600)
    receipts = [Flow(f"R{i}", "receipt", date(2026, 11, 1), code, D(100_000), D("1.25"))
                for i, code in enumerate(sorted(c for c, it in master.items.items()
                                                if not it.made))]
    flows = [e for e in events if isinstance(e, Flow) and e.type == "completion"]
    part = next(line.component for v in master.boms.versions[flows[0].item]
                for line in v.lines if not master.items[line.component].made)
    day = date(2026, 11, 1)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, replace(policy, journal=Journal.SUMMARY), day)
    services.post_events(b.uow(), receipts)
    failing = [CostChange(id="CC-1", date=day, item=part, standard_cost=D("5")), *flows,
               Completion(id="BAD", date=day, item="NO-SUCH-ITEM", qty=D(1))]
    with pytest.raises(BackflushError):
        services.post_events(b.uow(), failing)
    assert b.ledger().costs.number == 1  # rolled back
    later: list[Event | Flow] = [
        CostChange(id="CC-1", date=day, item=part, standard_cost=D("7")), *flows]
    services.post_events(b.uow(), later)
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert reports.verify(b.ledger()) == []
    assert state(b.ledger()) == reference(master, policy, [*receipts, *later])


def test_reject_policy_refuses_the_same_event_and_posts_nothing(tmp_path: Path) -> None:
    master, events = plant(tmp_path, seed=5, events=300)
    policy = Policy(negative_stock=NegativeStock.REJECT, journal=Journal.SUMMARY)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, policy, date(2026, 11, 1))
    with pytest.raises(NegativeStockError) as summary_error:
        services.post_events(b.uow(), events)
    assert not b.ledger().anything_posted()
    uow = InMemoryUnitOfWork()
    services.set_up_ledger(uow, master, replace(policy, journal=Journal.PER_EVENT),
                           date(2026, 11, 1))
    with pytest.raises(NegativeStockError) as per_event_error:
        services.post_events(uow, events)
    assert str(summary_error.value) == str(per_event_error.value)


def test_summarised_events_are_stored_explainable_and_reversible(tmp_path: Path) -> None:
    master, events = plant(tmp_path, seed=5, events=400)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, Policy(journal=Journal.SUMMARY), date(2026, 11, 1))
    services.post_events(b.uow(), events)
    done = next(e for e in events if e.type == "completion")
    explained = reports.explain(b.ledger(), done.id)
    assert explained is not None and explained.summary is not None
    assert explained.event.content() == (done.event() if isinstance(done, Flow)
                                         else done).content()
    summary = b.ledger().entry(explained.summary)
    assert summary is not None and summary.entry.type == "summary"
    assert explained.entries and explained.moves  # the event's share, by the rules
    share_lines = {ln.account for _, e in explained.entries for ln in e.lines}
    assert "Conversion Costs Applied" in share_lines
    before = dict(b.ledger().stock())
    services.post_events(b.uow(), [Reversal(id="REV-1", date=done.date, of=done.id)])
    after = b.ledger().stock()
    for m in explained.moves:
        key = (m.item, m.location)
        assert after.get(key, D(0)) - before.get(key, D(0)) == -m.qty
    assert b.ledger().reversed_by(done.id) == "REV-1"
    assert reports.verify(b.ledger()) == []


def test_bulk_duplicates_are_skipped_and_changed_content_is_refused(tmp_path: Path) -> None:
    master, events = plant(tmp_path, seed=6, events=300)
    b = new_backend()
    services.set_up_ledger(b.uow(), master, Policy(journal=Journal.SUMMARY), date(2026, 11, 1))
    first = services.post_events(b.uow(), events)
    balances = dict(b.ledger().balances())
    again = services.post_events(b.uow(), events + events[:5])
    assert (again.posted, again.duplicates) == (0, len(events) + 5)
    assert b.ledger().balances() == balances and first.posted == len(events)
    flow = next(e for e in events if isinstance(e, Flow) and e.type == "completion")
    changed = flow._replace(qty=flow.qty + 1)
    new = Flow("NEW-1", "completion", flow.date, flow.item, D(1))
    with pytest.raises(DuplicateEventError, match="different content"):
        services.post_events(b.uow(), [new, changed])
    assert b.ledger().stored_event("NEW-1") is None and b.ledger().balances() == balances
    twice = services.post_events(b.uow(), [new, new, Completion(
        id="NEW-2", date=flow.date, item=flow.item, qty=D(2))])
    assert (twice.posted, twice.duplicates, twice.duplicate_ids) == (2, 1, ["NEW-1"])


def test_odd_standard_costs_give_the_same_price_variance_and_rounding(tmp_path: Path) -> None:
    """Standards with more decimals than the currency: every stock value change rounds, so
    a receipt's price variance depends on the running balance; the summary must follow it."""
    master, events = plant(tmp_path, seed=9, events=900)
    items = {code: replace(it, standard_cost=it.standard_cost + D("0.0037"))
             if it.standard_cost is not None else it for code, it in master.items.items()}
    master = replace(master, items=items)
    want = reference(master, Policy(), events)
    got, result = summarised(master, Policy(), events, run_size=211)
    assert result.summarised > len(events) * 0.9
    assert got == want
