"""Alert rules on a real ledger (memory, SQLite and PostgreSQL): the same events posted with
an entry each and in summary entries raise the same alerts; the thresholds come from the
scenario's policy, and a bad threshold is refused by name with nothing posted; alerts are
acknowledged once, on the record."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from backflush.adapters.files.scenario import scenario_from_text
from backflush.domain.errors import ValidationError
from backflush.domain.policy import Journal
from backflush.service_layer.alerts import UnknownAlerts, acknowledge_alerts, list_alerts
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger
from tests.support import current_backend

pytestmark = pytest.mark.usefixtures("backend")

PLANT = """
format: 1
policy:
  negative_stock: allow
  alerts: {alerts}
items:
  - {{code: SEAT, standard_cost: 5.00}}
  - {{code: LEG, standard_cost: 1.00}}
  - {{code: GLUE, standard_cost: 0.10, negative_stock: queue}}
  - {{code: STOOL}}
  - {{code: BOX, conversion_cost: 1.00}}
boms:
  STOOL: [{{item: SEAT, qty: 1}}, {{item: LEG, qty: 3}}]
  BOX: [{{item: GLUE, qty: 1}}]
work_centers:
  - {{code: WELD, rate: 60.00}}
  - {{code: PAINT, rate: 30.00}}
routings:
  STOOL: [{{operation: 10, work_center: WELD, run_hours: 0.1}}]
events:
  # the first batch: receipts, and a box whose glue is short (parked: posted on its own)
  - {{type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.30, id: R1}}
  - {{type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.01, id: R2}}
  - {{type: completion, date: 2026-11-02, item: BOX, qty: 4, id: WO-B}}
  # the second: a run of completions, receipts and sales, summarisable
  - {{type: completion, date: 2026-11-05, item: STOOL, qty: 10, id: W1}}
  - {{type: receipt, date: 2026-11-06, item: SEAT, qty: 10, unit_price: 4.00, id: R3}}
  - {{type: completion, date: 2026-11-09, item: STOOL, qty: 10, id: W2,
      hours: {{WELD: 1, PAINT: 0.5}}}}
  - {{type: completion, date: 2026-11-10, item: STOOL, qty: 150, id: W3}}
  - {{type: sale, date: 2026-11-12, item: STOOL, qty: 5, unit_price: 30, id: S1}}
  - {{type: completion, date: 2026-11-13, item: STOOL, qty: 1, id: W4}}
"""


def scenario(alerts: str = "{}") -> object:
    return scenario_from_text(textwrap.dedent(PLANT.format(alerts=alerts)), "plant.yaml")


def posted(journal: Journal, alerts: str = "{}") -> tuple[list[tuple[str, str, str]], int]:
    """The alerts after posting the plant's events in two batches, and how many events
    the second batch summarised."""
    from dataclasses import replace

    s = scenario(alerts)
    ledger = current_backend().ledger()
    set_up_ledger(ledger.unit_of_work(), s.master, replace(s.policy, journal=journal),
                  s.as_of)
    post_events(ledger.unit_of_work(), s.events[:3])
    result = post_events(ledger.unit_of_work(), s.events[3:])
    found = [(a.event_id, a.code, a.message) for a in list_alerts(
        ledger.unit_of_work(read_only=True), include_acknowledged=True)]
    return found, result.summarised


def test_the_same_events_raise_the_same_alerts_per_event_and_in_summary() -> None:
    per_event, none = posted(Journal.PER_EVENT)
    summary, summarised = posted(Journal.SUMMARY)
    assert none == 0 and summarised == 6  # the second batch went the summary way
    assert summary == per_event
    assert {(event, code) for event, code, _ in per_event} == {
        ("R1", "purchase_price_variance"),  # 6 %; R2's 1 % is within the threshold
        ("WO-B", "queued"),
        ("R3", "purchase_price_variance"),  # -20 %
        ("W2", "hours_off_routing"),
        ("W3", "negative_stock"),
        ("W2", "pending_age"),  # WO-B's glue: 7 days old on the 9th, flagged once
        ("W4", "negative_stock")}  # (S1 sells stools that were made: no alert)
    [age] = [m for _, code, m in per_event if code == "pending_age"]
    assert age == ("WO-B's issue of GLUE at stores has been pending 7 days, since "
                   "2026-11-02 (threshold 7 days)")


def test_the_policy_thresholds_change_and_switch_off_the_rules_in_both_ways() -> None:
    alerts = ("{purchase_price_variance_pct: 25, pending_age_days: 'off', "
              "negative_stock: off, hours_off_routing: false}")
    per_event, _ = posted(Journal.PER_EVENT, alerts)
    summary, summarised = posted(Journal.SUMMARY, alerts)
    assert summarised == 6 and summary == per_event
    assert [(event, code) for event, code, _ in per_event] == [("WO-B", "queued")]


@pytest.mark.parametrize(("alerts", "field", "words"), [
    ("{count_difference_pct: -1}", "count_difference_pct", "from 0 to 1000"),
    ("{count_difference_pct: 2000}", "count_difference_pct", "from 0 to 1000"),
    ("{purchase_price_variance_pct: lots}", "purchase_price_variance_pct", "decimal"),
    ("{pending_age_days: 2.5}", "pending_age_days", "whole days"),
    ("{negative_stock: maybe}", "negative_stock", "on or off"),
    ("{price_alerts: 5}", "price_alerts", "count_difference_pct, purchase_price"),
])
def test_a_bad_threshold_is_refused_by_name_and_nothing_is_posted(alerts: str, field: str,
                                                                  words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        scenario(alerts)
    [problem] = caught.value.problems
    assert field in str(problem) and "alerts" in str(problem) and words in str(problem)


def test_an_alert_is_acknowledged_once_and_an_unknown_number_acknowledges_nothing() -> None:
    s = scenario()
    ledger = current_backend().ledger()
    set_up_ledger(ledger.unit_of_work(), s.master, s.policy, s.as_of)
    post_events(ledger.unit_of_work(), s.events[:3])
    [r1, queued] = list_alerts(ledger.unit_of_work(read_only=True))
    assert (r1.event_id, r1.code, r1.open, str(r1.date)) == ("R1", "purchase_price_variance",
                                                             True, "2026-11-02")
    with pytest.raises(UnknownAlerts, match="no alert is numbered 99"):
        acknowledge_alerts(ledger.unit_of_work(), [r1.id, 99], "ann")
    assert all(a.open for a in list_alerts(ledger.unit_of_work(read_only=True)))
    first = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    done = acknowledge_alerts(ledger.unit_of_work(), [r1.id], "ann", "credit note asked",
                              now=first)
    assert done.already == () and done.alerts[0].acknowledged_by == "ann"
    again = acknowledge_alerts(ledger.unit_of_work(), [r1.id, queued.id], "bob",
                               now=datetime(2026, 12, 2, tzinfo=UTC))
    assert again.already == (r1.id,)
    kept = {a.id: a for a in list_alerts(ledger.unit_of_work(read_only=True),
                                         include_acknowledged=True)}
    assert (kept[r1.id].acknowledged_by, kept[r1.id].acknowledged_on, kept[r1.id].note) == (
        "ann", "2026-12-01T09:30:00+00:00", "credit note asked")
    assert kept[queued.id].acknowledged_by == "bob" and kept[queued.id].note is None
    assert list_alerts(ledger.unit_of_work(read_only=True)) == []
    for bad in ("", "a\x07b"):
        with pytest.raises(ValidationError, match="'by'"):
            acknowledge_alerts(ledger.unit_of_work(), [r1.id], bad)
