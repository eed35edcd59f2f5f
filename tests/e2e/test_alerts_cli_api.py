"""`backflush alerts` (list, `--all`, `--format json`, `ack`) on a kept ledger, and the API's
alerts: `GET .../alerts?open=true` and `POST .../alerts/{id}/acknowledge` (issue 16, item 6).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import backflush as bf
from tests.e2e.api_support import BASE, Api, serve
from tests.e2e.support import bf as cli
from tests.e2e.support import ok, write

PLANT = """
format: 1
policy:
  trigger_points: [purchase, completion, sale]
  alerts: {count_difference_pct: 10, purchase_price_variance_pct: 5}
items:
  - {code: SEAT, standard_cost: 5.00}
  - {code: LEG, standard_cost: 1.00}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}, {item: LEG, qty: 3}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 100, unit_price: 5.50, id: PO-1}
  - {type: receipt, date: 2026-11-02, item: LEG, qty: 300, unit_price: 1.02, id: PO-2}
  - {type: completion, date: 2026-11-05, item: STOOL, qty: 50, id: WO-1}
  - {type: count, date: 2026-11-06, item: LEG, qty: 130, id: CC-1}
"""


def test_alerts_are_listed_acknowledged_once_and_leave_the_open_list(
        sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT)
    ok("init", "--db", sqlite_url, "--from", str(path))
    ok("post", str(path), "--db", sqlite_url)
    listed = json.loads(ok("alerts", "--format", "json", "--db", sqlite_url).stdout)
    assert [(a["id"], a["date"], a["event"], a["code"]) for a in listed] == [
        (1, "2026-11-02", "PO-1", "purchase_price_variance"),  # 10 %; PO-2's 2 % is within
        (2, "2026-11-06", "CC-1", "count_difference"),  # 130 against 150: -13.33 %
        (3, "2026-11-06", "CC-1", "wrong_bom_line")]  # (the count's BOM-line hint)
    assert listed[1]["message"] == ("LEG at stores: 130 counted against 150 on the books, "
                                    "a difference of -20 (-13.33 %; threshold 10.00 % of the "
                                    "book quantity)")
    assert listed[0]["acknowledged_by"] is None and listed[0]["note"] is None
    table = ok("alerts", "--db", sqlite_url)
    assert "Open alerts (3)" in table.stdout and "purchase_price_variance" in table.stdout

    done = ok("alerts", "ack", "1", "--by", "Ann Lee", "--note", "credit note asked",
              "--db", sqlite_url)
    assert done.stdout.startswith("Acknowledged alert 1 as Ann Lee on 20")
    again = ok("alerts", "ack", "1", "2", "3", "--by", "Bob", "--db", sqlite_url)
    assert "Acknowledged alerts 2, 3 as Bob" in again.stdout
    assert "Alert 1 was acknowledged before, as Ann Lee" in again.stdout
    assert "No open alerts." in ok("alerts", "--db", sqlite_url).stdout
    everything = json.loads(ok("alerts", "--all", "--format", "json", "--db",
                               sqlite_url).stdout)
    assert [(a["acknowledged_by"], a["note"]) for a in everything] == [
        ("Ann Lee", "credit note asked"), ("Bob", None), ("Bob", None)]
    assert all(a["acknowledged_on"].endswith("+00:00") for a in everything)
    wide = cli("alerts", "--all", "--db", sqlite_url)
    assert wide.code == 0 and "Ann Lee" in wide.flat
    only = json.loads(ok("alerts", "--all", "--event", "CC-1", "--format", "json",
                         "--db", sqlite_url).stdout)
    assert [a["id"] for a in only] == [2, 3]
    ok("verify", "--db", sqlite_url)


def test_acknowledging_an_unknown_alert_is_refused_and_acknowledges_nothing(
        sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT)
    ok("init", "--db", sqlite_url, "--from", str(path))
    ok("post", str(path), "--db", sqlite_url)
    refused = cli("alerts", "ack", "1", "7", "--by", "Ann", "--db", sqlite_url)
    assert refused.code == 2 and "no alert is numbered 7" in refused.stderr
    assert "Traceback" not in refused.output
    assert len(json.loads(ok("alerts", "--format", "json", "--db", sqlite_url).stdout)) == 3
    for args in (["ack"], ["ack", "one"], ["ack", "1", "--by", ""], ["--format", "xml"]):
        bad = cli("alerts", *args, "--db", sqlite_url)
        assert bad.code == 2, (args, bad.output)
    assert len(json.loads(ok("alerts", "--format", "json", "--db", sqlite_url).stdout)) == 3
    missing = cli("alerts", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.code == 4 and not (tmp_path / "none.db").exists()


def test_a_bad_alert_threshold_in_the_policy_is_refused_with_nothing_created(
        sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT.replace("count_difference_pct: 10",
                                                        "count_difference_pct: ten"))
    refused = cli("init", "--db", sqlite_url, "--from", str(path))
    assert refused.code == 2 and "alerts.count_difference_pct" in refused.flat
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


# ---------------------------------------------------------------- the API
@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    ledger = bf.create_ledger(db_url)
    try:
        yield from serve(ledger)
    finally:
        ledger.close()


def receipt(ident: str, price: str) -> dict[str, str]:
    return {"id": ident, "type": "receipt", "date": "2026-12-02", "item": "SEAT",
            "qty": "10", "unit_price": price}


def test_the_api_lists_open_alerts_and_an_operator_acknowledges_them(api: Api) -> None:
    assert api.post("/events", receipt("PO-91", "6.00")).status_code == 201
    assert api.post("/events", receipt("PO-92", "5.00")).status_code == 201  # on standard
    [alert] = api.get("/alerts?open=true").json()
    assert (alert["event"], alert["code"], alert["date"], alert["acknowledged_on"]) == (
        "PO-91", "purchase_price_variance", "2026-12-02", None)
    path = f"/alerts/{alert['id']}/acknowledge"
    assert api.client.post(BASE + path).status_code == 401
    assert api.client.post(BASE + path, headers={"Authorization": "Bearer bf_x"}
                           ).status_code == 401
    refused = api.post(path, {"note": "seen"}, role="viewer")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.get("/alerts?open=true").json() == [alert]  # nothing changed
    missing = api.post("/alerts/999/acknowledge", {})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing.headers["content-type"] == "application/problem+json"
    bad = api.post(path, {"by": "", "extra": 1})
    assert bad.status_code == 422
    done = api.post(path, {"note": "price agreed"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["acknowledged_by"], body["note"]) == ("test-operator", "price agreed")
    again = api.post(path, None, role="admin")  # idempotent: the first acknowledgement
    assert again.status_code == 200 and again.json() == body
    assert api.get("/alerts?open=true").json() == []
    assert api.get("/alerts").json() == [body]
    assert api.get("/alerts?event=PO-91").json() == [body]
