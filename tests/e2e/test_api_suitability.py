"""``GET /reports/suitability`` through the real application: a viewer reads it, its
figures as decimal strings, thresholds as query parameters, bad ones refused (422, the field
named) and nothing posted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api_support import BASE, Api, floats_in, serve_scenario
from tests.unit.test_suitability import PLANT

PATH = "/reports/suitability"


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from serve_scenario(db_url, PLANT)


def test_a_viewer_reads_the_findings_with_their_figures_and_thresholds(api: Api) -> None:
    assert api.client.get(BASE + PATH).status_code == 401
    r = api.get(PATH)
    assert r.status_code == 200, r.text
    assert floats_in(r.text) == []
    doc = r.json()
    assert doc["as_of"] == "2026-11-30" and doc["work_in_process_not_on_books"] == "100.00"
    assert doc["thresholds"] == {"min_turnover": "12", "max_cycle_days": 5,
                                 "min_completions": 2, "max_bom_versions": 3,
                                 "max_count_difference": "0.05", "max_scrap_rate": "0.05"}
    wip = next(f for f in doc["findings"] if f["check"] == "open_orders")
    assert (wip["subject"], wip["figure"], wip["threshold"], wip["value"]) == (
        "WO-2", "10", "5", "100.00")
    turnover = next(c for c in doc["checks"] if c["check"] == "turnover")
    assert (turnover["figure"], turnover["findings"]) == ("21.5149", 0)


def test_thresholds_and_a_window_by_query(api: Api) -> None:
    r = api.get(PATH, params={"max_cycle_days": 10, "max_scrap_rate": "0.1",
                              "max_count_difference": "0.1", "min_completions": 1,
                              "min_turnover": "25"})
    assert r.status_code == 200, r.text
    assert [f["check"] for f in r.json()["findings"]] == ["turnover"]
    r = api.get(PATH, params={"from": "2026-11-01", "to": "2026-11-25"})
    assert r.status_code == 200 and r.json()["as_of"] == "2026-11-25"
    assert "open_orders" not in {f["check"] for f in r.json()["findings"]}


@pytest.mark.parametrize(("params", "field"), [
    ({"max_scrap_rate": "1.5"}, "max_scrap_rate"),
    ({"min_turnover": "fast"}, "min_turnover"),
    ({"max_cycle_days": "-1"}, "max_cycle_days"),
    ({"min_completions": "0"}, "min_completions"),
    ({"period": "2026-11", "from": "2026-11-01"}, "period"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
])
def test_a_bad_query_is_refused_and_nothing_posted(api: Api, params: dict[str, str],
                                                   field: str) -> None:
    count = api.events()
    r = api.get(PATH, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert field in (body.get("field") or "") + str(body.get("errors", "")), body
    assert api.events() == count
