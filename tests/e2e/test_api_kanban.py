"""The kanban routes of the HTTP API (issues 16 and 17): the board, open signals, sending
the cards, sizing; on SQLite and PostgreSQL through the real application."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.api_support import BASE, Api, floats_in, serve_scenario
from tests.unit.test_kanban import PLANT


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from serve_scenario(db_url, PLANT)


def board(api: Api) -> dict[str, Any]:
    r = api.get("/kanban")
    assert r.status_code == 200 and floats_in(r.text) == []
    return {row["item"]: row for row in r.json()}


def test_the_board_follows_a_release_and_the_cards_sent(api: Api) -> None:
    assert board(api)["LEG"]["demand"] == "0"
    release = {"id": "WO-7", "type": "release", "date": "2026-11-03", "item": "STOOL",
               "qty": "40"}
    assert api.post("/events", release).status_code == 201
    leg = board(api)["LEG"]
    assert (leg["demand"], leg["replenish_qty"], leg["containers"]) == ("120", "120", 12)
    assert api.post("/kanban/signals", role="viewer").status_code == 403
    sent = api.post("/kanban/signals")
    assert sent.status_code == 201, sent.text
    assert sent.json() == [{"id": "KB-2026-11-03-LEG@line-1", "item": "LEG",
                            "location": "line-1", "date": "2026-11-03", "qty": "120"}]
    again = api.post("/kanban/signals")  # a retry: covered now, nothing more is sent
    assert again.status_code == 201 and again.json() == []
    assert board(api)["LEG"]["open_signals"] == "120"
    transfer = {"id": "TR-1", "type": "transfer", "date": "2026-11-04", "item": "LEG",
                "qty": "100", "from": "stores", "to": "line-1"}
    assert api.post("/events", transfer).status_code == 201
    assert api.get("/kanban/signals").json() == [
        {"id": "KB-2026-11-03-LEG@line-1", "item": "LEG", "location": "line-1",
         "date": "2026-11-03", "qty": "20"}]
    sizing = api.get("/kanban/sizing", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert sizing.status_code == 200 and [s["item"] for s in sizing.json()] == [
        "LEG", "CASTER"]
    bad = api.get("/kanban/sizing", params={"from": "2026-11-30", "to": "2026-11-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "from"


def test_a_signal_for_an_item_without_a_supermarket_posts_nothing(api: Api) -> None:
    signal = {"id": "S-1", "type": "signal", "date": "2026-11-03", "item": "SEAT",
              "location": "stores", "qty": "5"}
    r = api.post("/events", signal)
    assert r.status_code in (409, 422), r.text
    assert "SEAT has no supermarket at stores" in r.json()["detail"]
    assert api.get("/kanban/signals").json() == []
    assert api.client.get(BASE + "/kanban").status_code == 401


HELD = PLANT.replace("format: 1\n", "format: 1\npolicy: {failed_backflush: hold}\n", 1).replace(
    "{code: SEAT, standard_cost: 5.00}", "{code: SEAT, standard_cost: 5.00, "
    "negative_stock: reject}")


@pytest.fixture
def holding(db_url: str) -> Iterator[Api]:
    yield from serve_scenario(db_url, HELD)


def test_a_completion_that_cannot_post_is_held_and_retried_over_the_api(holding: Api) -> None:
    api = holding
    big = {"id": "WO-9", "type": "completion", "date": "2026-11-05", "item": "STOOL",
           "qty": "600"}  # 500 seats on hand: short
    r = api.post("/events", big)
    assert r.status_code == 202, r.text
    assert r.json()["held"] is True and r.json()["reason"] == "short stock"
    assert api.post("/events", big).status_code == 202  # sent again: still held, once
    queued = api.get("/queue").json()
    assert [(q["event"], q["reason"]) for q in queued] == [("WO-9", "short stock")]
    assert api.post("/queue/retry", role="viewer").status_code == 403
    seats = {"id": "PO-9", "type": "receipt", "date": "2026-11-06", "item": "SEAT",
             "qty": "200", "unit_price": "5.00"}
    assert api.post("/events", seats).status_code == 201
    done = api.post("/queue/retry")
    assert done.status_code == 200 and done.json() == {"posted": ["WO-9"], "still_held": []}
    # Posted now: its legs, which queue at line-1 (none there), are owed to it.
    assert [(q["event"], q["item"], q["qty"]) for q in api.get("/queue").json()] == [
        ("WO-9", "LEG", "1800")]
    assert api.get("/events/WO-9").status_code == 200
