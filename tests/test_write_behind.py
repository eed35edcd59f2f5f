"""Runs written behind (PostgreSQL): a summarised run's rows go to the server from a writer
thread while the next run is read and summarised.

Every test writes every run behind (``write_behind_from = 0``) and checks the ledger against
the per-event one, or that nothing was posted: a clash found only when the writer is done,
an id reused with other content, a failure in the reading thread and one in the writer.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backflush.adapters import tabular
from backflush.adapters.sql import ledger as sql_ledger
from backflush.adapters.sql.ledger import SqlLedger
from backflush.domain.errors import BackflushError, DuplicateEventError, Problem, ValidationError
from backflush.domain.events import Close, Completion, ConversionIncurred, Event, Flow
from backflush.domain.policy import Journal, Policy
from backflush.domain.posting import Context
from backflush.domain.summary import summarise
from backflush.service_layer import reports, services
from backflush.service_layer.unit_of_work import ConcurrencyError
from tests.conftest import new_backend
from tests.test_summary import POLICIES, plant, reference, state

D = Decimal
DAY = date(2026, 11, 1)
pytestmark = [pytest.mark.usefixtures("backend"),
              pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]


@pytest.fixture(autouse=True)
def every_run_behind(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every summarised run written behind; the names of the threads that wrote runs."""
    monkeypatch.setattr(SqlLedger, "write_behind_from", 0)
    writers: list[str] = []
    original = SqlLedger._write_run

    def write_run(self: SqlLedger, *args: Any) -> None:
        writers.append(threading.current_thread().name)
        original(self, *args)

    monkeypatch.setattr(SqlLedger, "_write_run", write_run)
    return writers


def _ledger_with(master: Any, policy: Policy = Policy()) -> Any:
    b = new_backend()
    services.set_up_ledger(b.uow(), master, replace(policy, journal=Journal.SUMMARY), DAY)
    return b


def _nothing_posted_then_all_of_it(b: Any, master: Any, events: list[Event | Flow]) -> None:
    """Nothing was posted and no writer is left running; the same events then post (the
    ledger goes on) to the per-event ledger."""
    assert not [t for t in threading.enumerate() if t.name == "backflush-writer"]
    assert not b.ledger().anything_posted()
    services.post_events(b.uow(), events)
    assert _close(b) == reference(master, Policy(), events)


def _close(b: Any) -> dict[str, Any]:
    services.post_events(b.uow(), [Close(id="close", date=date(2026, 11, 30), period="2026-11")])
    assert reports.verify(b.ledger()) == []
    return state(b.ledger())


@pytest.mark.parametrize("name", ["ACD allow", "CD", "ACD queue"])
def test_runs_written_behind_give_the_per_event_ledger(
        tmp_path: Path, name: str, every_run_behind: list[str]) -> None:
    master, events = plant(tmp_path, seed=5)
    b = _ledger_with(master, POLICIES[name])
    with b.uow() as uow:
        result = services.post_events_in(uow, events, run_size=97)
        uow.commit()
    assert result.posted == len(events) and not result.duplicates
    # Runs were written behind (under QUEUE most events go one by one: short stock).
    assert every_run_behind.count("backflush-writer") >= 2
    assert _close(b) == reference(master, POLICIES[name], events)


def _as_csv(path: Path, flows: list[Flow]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "type", "item", "qty"])
        for f in flows:
            w.writerow([f.id, f.date.isoformat(), f.type, f.item, f.qty])
    return path


def test_runs_of_columns_written_behind_give_the_per_event_ledger(
        tmp_path: Path, every_run_behind: list[str]) -> None:
    """A CSV file read as runs in columns (FlowRun), written behind with COPY text."""
    master, events = plant(tmp_path, seed=8, events=1500)
    receipts: list[Event | Flow] = [
        Flow(f"R{i}", "receipt", DAY, code, D(100_000), D("1.25"))
        for i, code in enumerate(sorted(c for c, it in master.items.items() if not it.made))]
    flows = [e for e in events if isinstance(e, Flow) and e.type == "completion"]
    path = _as_csv(tmp_path / "completions.csv", flows)
    b = _ledger_with(master)
    services.post_events(b.uow(), receipts)
    with b.uow() as uow:
        result = services.post_events_in(
            uow, tabular.stream_events(path, master, read_ahead=False, chunk=100), run_size=150)
        uow.commit()
    assert result.posted == result.summarised == len(flows)
    assert every_run_behind.count("backflush-writer") >= 5
    assert _close(b) == reference(master, Policy(), [*receipts, *flows])


def test_a_clash_found_once_the_run_is_written_skips_the_duplicates(
        tmp_path: Path, every_run_behind: list[str]) -> None:
    """Ids posted by an earlier transaction come again in a middle run: the clash shows
    only when the writer is done, after the next run was summarised on balances that
    included the clashing run. The duplicates are skipped, the rest posted, and the ledger
    is the per-event one. (Standards with more decimals than the currency: a summary's
    stock value changes round from the stock on hand before, so the next run must be
    summarised again once the clash is known.)"""
    master, events = plant(tmp_path, seed=6, events=900)
    master = replace(master, items={
        code: replace(it, standard_cost=it.standard_cost + D("0.0037"))
        if it.standard_cost is not None else it for code, it in master.items.items()})
    b = _ledger_with(master)
    services.post_events(b.uow(), events[:300])
    again = events[100:150]  # the same content: duplicates
    with b.uow() as uow:
        result = services.post_events_in(uow, [*events[300:600], *again, *events[600:]],
                                          run_size=97)
        uow.commit()
    assert result.duplicates == len(again)
    assert result.duplicate_ids == [e.id for e in again]
    assert result.posted == len(events) - 300
    assert "backflush-writer" in every_run_behind
    assert _close(b) == reference(master, Policy(), events)


def test_an_id_reused_with_other_content_in_a_run_written_behind_posts_nothing(
        tmp_path: Path) -> None:
    master, events = plant(tmp_path, seed=6, events=900)
    b = _ledger_with(master)
    services.post_events(b.uow(), events[:300])
    before = state(b.ledger())
    flow = next(e for e in events[:300] if isinstance(e, Flow) and e.type == "completion")
    changed = flow._replace(qty=flow.qty + 1)
    with pytest.raises(DuplicateEventError, match="different content"):
        services.post_events(b.uow(), [*events[300:600], changed, *events[600:]])
    assert state(b.ledger()) == before


def test_a_bad_event_after_runs_written_behind_posts_nothing(tmp_path: Path) -> None:
    """A bad event after runs written behind: the transaction rolls back, nothing is
    posted, and the ledger goes on."""
    master, events = plant(tmp_path, seed=5, events=900)
    b = _ledger_with(master)

    def stream() -> Iterator[Event | Flow]:
        yield from events[:600]
        yield Completion(id="BAD", date=DAY, item="NO-SUCH-ITEM", qty=D(1))
        yield from events[600:]

    with pytest.raises(BackflushError, match="NO-SUCH-ITEM"), b.uow() as uow:
        services.post_events_in(uow, stream(), run_size=97)
        uow.commit()
    _nothing_posted_then_all_of_it(b, master, events)


def test_a_bad_row_read_while_the_writer_is_writing_posts_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file's reader fails (a bad row) while the writer thread is still writing a run:
    the rollback waits for the writer, nothing is posted, and the ledger goes on."""
    master, events = plant(tmp_path, seed=5, events=900)
    b = _ledger_with(master)
    original = sql_ledger._bulk_events

    def slow(*args: Any) -> None:
        time.sleep(0.3)
        original(*args)

    monkeypatch.setattr(sql_ledger, "_bulk_events", slow)
    writing: list[bool] = []

    def stream() -> Iterator[Event | Flow]:
        flows = [e for e in events if isinstance(e, Flow)]
        yield from flows[:300]  # runs of 97: the last full one is being written now
        yield from flows[300:388]
        writing.append(any(t.name == "backflush-writer" and t.is_alive()
                           for t in threading.enumerate()))
        raise ValidationError([Problem("row 390", "qty", "not a number", "events.csv", 390)])

    with pytest.raises(ValidationError), b.uow() as uow:
        services.post_events_in(uow, stream(), run_size=97)
        uow.commit()
    assert writing == [True]
    monkeypatch.setattr(sql_ledger, "_bulk_events", original)
    _nothing_posted_then_all_of_it(b, master, events)


def test_a_failure_in_the_writer_thread_is_raised_and_nothing_is_posted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, events = plant(tmp_path, seed=5, events=900)
    b = _ledger_with(master)
    calls: list[str] = []
    original = sql_ledger._bulk_events

    def failing(*args: Any) -> None:
        calls.append(threading.current_thread().name)
        if len(calls) == 3:
            raise OSError("disk full")
        original(*args)

    monkeypatch.setattr(sql_ledger, "_bulk_events", failing)
    with pytest.raises(OSError, match="disk full"):
        services.post_events(b.uow(), events)
    assert calls[2] == "backflush-writer"
    monkeypatch.setattr(sql_ledger, "_bulk_events", original)
    _nothing_posted_then_all_of_it(b, master, events)


def test_an_unreported_clash_refuses_further_writes_and_the_commit(tmp_path: Path) -> None:
    """A caller of the ledger that does not settle a run written behind cannot lose it
    silently: the next write, and the commit, are refused."""
    master, events = plant(tmp_path, seed=5, events=300)
    flows = [e for e in events if isinstance(e, Flow) and e.type == "completion"]
    b = _ledger_with(master)
    services.post_events(b.uow(), flows[:10])
    with pytest.raises(RuntimeError, match="was not reported"), b.uow() as uow:
        ledger = uow.ledger
        ctx = Context(ledger.master, ledger.policy, ledger.costs, ledger)
        run = flows[5:40]  # ids 5-9 were posted
        summary = summarise(ctx, run)
        assert summary is not None
        assert ledger.record_summary(run, summary) is None  # written behind
        later = flows[40:60]
        summary = summarise(Context(ledger.master, ledger.policy, ledger.costs, ledger),
                            later)
        assert summary is not None
        ledger.record_summary(later, summary)
    with pytest.raises(RuntimeError, match="nothing was committed"), b.uow() as uow:
        ledger = uow.ledger
        run = flows[5:40]
        summary = summarise(Context(ledger.master, ledger.policy, ledger.costs, ledger),
                            run)
        assert summary is not None
        ledger.record_summary(run, summary)
        uow.commit()
    assert sorted(e.id for e in b.ledger().events()) == sorted(f.id for f in flows[:10])
    with b.uow() as uow:  # settled: the run and its clashing ids
        ledger = uow.ledger
        run = flows[5:40]
        summary = summarise(Context(ledger.master, ledger.policy, ledger.costs, ledger), run)
        assert summary is not None
        ledger.record_summary(run, summary)
        found = ledger.settle()
        assert found is not None and found[0] is run
        assert found[1] == {f.id for f in flows[5:10]}


def test_the_run_after_a_clash_is_summarised_again_without_the_clashing_run(
        tmp_path: Path) -> None:
    """Receipts posted before are sent again (duplicates) in a run written behind; the next
    run's completions are summarised meanwhile on the stock kept in memory, which counts
    them twice: enough for the parts. Once the clash is known that run is summarised again:
    the parts run short and the alerts are the per-event ones. (A first run of the same
    completions puts every item's stock in memory: nothing is read from the database, which
    would wait for the writer, before the second summary.)"""
    master, events = plant(tmp_path, seed=6, events=600)
    completions = [e for e in events if isinstance(e, Flow) and e.type == "completion"][:60]
    first = list({f.item: f for f in completions[:30]}.values())  # one per finished item
    later = [f for f in completions[30:] if f.item in {g.item for g in first}]
    parts = sorted(c for c, it in master.items.items() if not it.made and not it.phantom)
    ample = [Flow(f"R-{p}", "receipt", DAY, p, D(10**6), D("1.25")) for p in parts]
    probe = reference(master, Policy(), [*ample, *first, *later])  # what the completions use
    used = {p: D(10**6) - sum((q for (i, _), q in probe["stock"].items() if i == p), D(0))
            for p in parts}
    used = {p: q for p, q in used.items() if q > 1}
    assert used, "the completions use no parts"
    # On hand: 3/4 of what the completions use; counted twice, 3/2 of it.
    receipts: list[Event | Flow] = [Flow(f"R-{p}", "receipt", DAY, p,
                                         (q * 3 / 4).to_integral_value(), D("1.25"))
                                    for p, q in used.items()]
    b = _ledger_with(master)
    services.post_events(b.uow(), receipts)
    between = ConversionIncurred(id="CI-1", date=DAY, amount=D("10.00"))  # ends a run
    batch: list[Event | Flow] = [*first, between, *receipts, *later]
    with b.uow() as uow:
        result = services.post_events_in(uow, batch, run_size=len(receipts))
        uow.commit()
    assert result.duplicates == len(receipts)
    want = reference(master, Policy(), [*receipts, *first, between, *later])
    assert want["alerts"], "the parts do not run short"
    assert _close(b) == want


def test_interrupted_while_waiting_for_the_writer_the_rollback_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the posting thread waits for the writer: the writer still holds the
    connection, so the rollback waits for it to end (it is not left running), nothing is
    posted, and the ledger goes on."""
    master, events = plant(tmp_path, seed=5, events=600)
    b = _ledger_with(master)
    original_bulk = sql_ledger._bulk_events

    def slow(*args: Any) -> None:
        time.sleep(0.5)  # the writer is still busy when the wait is interrupted
        original_bulk(*args)

    original_join = threading.Thread.join
    interrupted: list[str] = []

    def join(self: threading.Thread, timeout: float | None = None) -> None:
        if self.name == "backflush-writer" and not interrupted:
            interrupted.append(self.name)
            raise KeyboardInterrupt
        original_join(self, timeout)

    monkeypatch.setattr(sql_ledger, "_bulk_events", slow)
    monkeypatch.setattr(threading.Thread, "join", join)
    with pytest.raises(KeyboardInterrupt):
        services.post_events(b.uow(), events)
    assert interrupted
    monkeypatch.setattr(threading.Thread, "join", original_join)
    monkeypatch.setattr(sql_ledger, "_bulk_events", original_bulk)
    _nothing_posted_then_all_of_it(b, master, events)


def test_a_unique_key_error_with_no_visible_clash_is_refused_not_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The events' unique key fails but no id of the run is visible twice (another
    transaction took them meanwhile): posting the run again would fail again, forever.
    The batch is refused as a concurrency error (retrying it later is safe); nothing is
    posted."""
    master, events = plant(tmp_path, seed=5, events=600)
    b = _ledger_with(master)
    services.post_events(b.uow(), events[:200])
    before = state(b.ledger())
    monkeypatch.setattr(SqlLedger, "_clashes", lambda self, run: set())
    with pytest.raises(ConcurrencyError, match="posted meanwhile"):
        services.post_events(b.uow(), events[150:])
    assert state(b.ledger()) == before
