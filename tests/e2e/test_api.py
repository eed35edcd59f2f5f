"""The HTTP API through the real application (ASGI client) on SQLite and PostgreSQL:
authentication and roles on every route, idempotent replays, conflicts, batches that post
all or nothing, problem+json, decimals as strings, cursor pagination, many ledgers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text

import backflush as bf
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import create_token
from tests.e2e.api_support import BASE, Api, completion, floats_in, serve
from tests.support import PG_SERVER

PROBLEM = "application/problem+json"


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    ledger = bf.create_ledger(db_url)
    try:
        yield from serve(ledger)
    finally:
        ledger.close()


# Every write route, its body, and the least role it needs.
WRITES: list[tuple[str, str, Any, str]] = [
    ("POST", "/events", completion("W-1"), "operator"),
    ("POST", "/events/batch", {"events": [completion("W-2")]}, "operator"),
    ("POST", "/periods/2026-12/close", {}, "accountant"),
    ("POST", "/periods/2026-11/reopen", {"reason": "late invoice", "by": "ann"},
     "accountant"),
    ("POST", "/kanban/signals", None, "operator"),
    ("POST", "/queue/retry", None, "operator"),
    ("POST", "/tokens", {"role": "viewer"}, "admin"),
    ("DELETE", "/tokens/test-viewer", None, "admin"),
]
RANK = ["viewer", "operator", "accountant", "admin"]


@pytest.mark.parametrize(("method", "path", "body", "needs"), WRITES,
                         ids=[f"{m} {p}" for m, p, _, _ in WRITES])
def test_every_write_route_needs_a_token_and_its_role(api: Api, method: str, path: str,
                                                      body: Any, needs: str) -> None:
    before, count = api.balances(), api.events()
    for headers in ({}, {"Authorization": "Bearer bf_not-a-token"},
                    {"Authorization": "Basic dXNlcjpwdw=="}):
        r = api.client.request(method, BASE + path, json=body, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["code"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
    for role in RANK[:RANK.index(needs)]:
        r = api.client.request(method, BASE + path, json=body, headers=api.auth(role))
        assert r.status_code == 403, (role, r.text)
        assert r.json()["code"] == "forbidden" and needs in r.json()["detail"]
    assert api.balances() == before and api.events() == count  # nothing was posted
    r = api.client.request(method, BASE + path, json=body, headers=api.auth(needs))
    assert r.status_code < 300, r.text


def test_read_routes_need_a_token_and_a_viewer_reads_them_all(api: Api) -> None:
    paths = ["/events", "/events/WO-1", "/journal", "/explain/WO-1", "/reports/trial-balance",
             "/reports/bom-accuracy", "/queue", "/alerts", "/periods", "/items", "/boms",
             "/routings", "/work-centers", "/cost-versions/0"]
    for path in paths:
        assert api.client.get(BASE + path).status_code == 401, path
        r = api.get(path)
        assert r.status_code == 200, (path, r.text)
        assert floats_in(r.text) == [], path
    assert api.get("/tokens").status_code == 403  # tokens are an admin's


def test_an_operator_cannot_post_what_is_an_accountants(api: Api) -> None:
    count = api.events()
    close = {"type": "close", "period": "2026-12", "id": "close-x", "date": "2026-12-31"}
    for body in (close, {"id": "CC-9", "type": "cost_change", "date": "2026-12-02",
                         "item": "LEG", "standard_cost": "2.00"}):
        r = api.post("/events", body)
        assert r.status_code == 403, r.text
        r = api.post("/events/batch", {"events": [completion("OK-1"), body]})
        assert r.status_code == 403, r.text
    assert api.events() == count


def test_a_retry_gets_the_original_answer_and_posts_nothing(api: Api) -> None:
    first = api.post("/events", completion("WO-77", "3"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    body = first.json()
    assert body["id"] == "WO-77" and body["entries"] and body["content"]["qty"] == "3"
    balances, count = api.balances(), api.events()
    again = api.post("/events", completion("WO-77", "3.00"))  # the same content
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert api.balances() == balances and api.events() == count


def test_the_same_id_with_other_content_is_a_409_naming_the_field(api: Api) -> None:
    assert api.post("/events", completion("WO-78", "3")).status_code == 201
    balances = api.balances()
    r = api.post("/events", completion("WO-78", "4"))
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    doc = r.json()
    assert doc["code"] == "id_conflict" and doc["id"] == "WO-78" and doc["field"] == "qty"
    assert doc["type"] == "urn:backflush:problem:id_conflict" and doc["status"] == 409
    assert "WO-78" in doc["detail"] and "qty differs" in doc["detail"]
    assert api.balances() == balances


def test_a_bad_event_is_refused_with_its_field_and_nothing_posts(api: Api) -> None:
    balances, count = api.balances(), api.events()
    cases = [
        (completion("B-1", "-2"), "qty"),
        (completion("B-2", item="NOPE"), "item"),
        ({**completion("B-3"), "qty": "1e400"}, "qty"),
        ({**completion("B-4"), "colour": "red"}, "colour"),
        ({"type": "completion", "date": "2026-12-03", "item": "STOOL", "qty": "1"}, "id"),
        (completion("B-5", date="2026-11-15"), None),  # November is closed
    ]
    for body, field in cases:
        r = api.post("/events", body)
        assert r.status_code in (409, 422), r.text
        doc = r.json()
        assert r.headers["content-type"] == PROBLEM and doc["detail"]
        if field is not None:
            assert doc["field"] == field, doc
        assert "nothing was posted" in doc["detail"] or doc["problems"]
    r = api.client.post(BASE + "/events", content=b'{"id": "X", "id": "Y"}',
                        headers={**api.auth("operator"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    r = api.client.post(BASE + "/events", content=b'{"id": "X", "type": "completion", '
                        b'"date": "2026-12-03", "item": "STOOL", "qty": 2.5e400}',
                        headers={**api.auth("operator"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "qty", r.text
    r = api.client.post(BASE + "/events", content=b"not json",
                        headers={**api.auth("operator"), "Content-Type": "application/json"})
    assert r.status_code == 422
    r = api.client.post(BASE + "/events", content=b"id=1",
                        headers={**api.auth("operator"), "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert api.balances() == balances and api.events() == count


def test_a_json_number_is_read_as_the_decimal_it_spells(api: Api) -> None:
    r = api.client.post(BASE + "/events", content=b'{"id": "N-1", "type": "receipt", '
                        b'"date": "2026-12-02", "item": "SEAT", "qty": 10.1, '
                        b'"unit_price": 5.10}',
                        headers={**api.auth("operator"), "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["content"]["qty"] == "10.1" and r.json()["content"]["unit_price"] == "5.1"
    assert floats_in(r.text) == []


def test_a_batch_with_one_bad_event_posts_nothing_and_names_it(api: Api) -> None:
    balances, count = api.balances(), api.events()
    events = [completion(f"BA-{i}") for i in range(50)]
    events[37] = completion("BA-37", "-1")
    r = api.post("/events/batch", {"events": events})
    assert r.status_code == 422, r.text
    doc = r.json()
    assert doc["entry"] == "events[37] (BA-37)" and doc["field"] == "qty"
    assert "backflush-batch" not in r.text  # (the spooled file is not the client's)
    assert api.balances() == balances and api.events() == count


def test_a_json_lines_batch_posts_all_and_its_key_replays(api: Api) -> None:
    lines = "\n".join(
        f'{{"id": "L-{i}", "type": "completion", "date": "2026-12-04", "item": "STOOL", '
        f'"qty": "1"}}' for i in range(3000)).encode()
    headers = {**api.auth("operator"), "Content-Type": "application/x-ndjson",
               "Idempotency-Key": "shift-42"}
    count = api.events()
    r = api.client.post(BASE + "/events/batch", content=lines, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["posted"] == 3000 and r.json()["mode"] == "atomic"
    balances = api.balances()
    again = api.client.post(BASE + "/events/batch", content=lines, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.content == r.content and api.balances() == balances
    assert api.events() == count + 3000
    other = api.client.post(BASE + "/events/batch", content=lines[:-10] + b'"2"}',
                            headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert other.json()["id"] == "shift-42" and other.json()["field"] == "Idempotency-Key"
    # Without the key, ids alone keep it idempotent: every event a replay.
    plain = api.client.post(BASE + "/events/batch", content=lines,
                            headers={**headers, "Idempotency-Key": "shift-43"})
    assert plain.json()["posted"] == 0 and plain.json()["replayed"] == 3000
    assert api.balances() == balances


def test_a_batch_event_by_event_gives_a_result_per_event(api: Api) -> None:
    assert api.post("/events", completion("E-0")).status_code == 201
    events = [completion("E-0"), completion("E-1"), completion("E-2", item="NOPE"),
              completion("E-3", date="2026-11-02")]
    r = api.post("/events/batch?mode=each", {"events": events})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [x["status"] for x in doc["results"]] == ["replayed", "posted", "refused",
                                                     "refused"]
    assert doc["results"][2]["problem"]["field"] == "item"
    assert doc["results"][3]["problem"]["code"] == "period_locked"
    assert (doc["posted"], doc["replayed"], doc["refused"]) == (1, 1, 2)
    assert api.get("/events/E-1").status_code == 200
    assert api.get("/events/E-2").status_code == 404


def test_pages_of_a_list_add_up_to_the_list(api: Api) -> None:
    api.post("/events/batch", {"events": [completion(f"P-{i}") for i in range(23)]})
    seen: list[str] = []
    cursor = None
    while True:
        r = api.get("/events", params={"limit": 5, **({"after": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += [e["id"] for e in r.json()["items"]]
        cursor = r.json()["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == api.events()
    r = api.get("/events", params={"after": "garbage"})
    assert r.status_code == 422 and r.json()["field"] == "after"
    items = api.get("/items", params={"limit": 1})
    assert len(items.json()["items"]) == 1 and items.json()["next"]


def test_every_report_reads_as_the_cli_prints_it(api: Api) -> None:
    for name in ("trial-balance", "stock", "variances", "journal", "income", "gaap",
                 "analysis", "cost-sheet", "queue", "kpis"):
        r = api.get(f"/reports/{name}")
        assert r.status_code == 200, (name, r.text)
        doc = r.json()
        assert doc["columns"] and floats_in(r.text) == []
    by = api.get("/reports/variances", params={"by": "item", "period": "2026-11"})
    assert by.status_code == 200 and by.json()["columns"][1]["name"] == "item"
    bad = api.get("/reports/stock", params={"by": "item"})
    assert bad.status_code == 422 and bad.json()["field"] == "by"
    assert api.get("/reports/nope").status_code == 422


def test_an_accountant_closes_and_reopens(api: Api) -> None:
    r = api.post("/periods/2026-12/close", {"force": True}, role="accountant")
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "close" and r.json()["id"] == "close-2026-12"
    again = api.post("/periods/2026-12/close", {}, role="accountant")
    assert again.status_code == 422 and "already closed" in again.json()["detail"]
    assert api.get("/periods").json()["locked_through"] == "2026-12-31"
    r = api.post("/periods/2026-12/reopen", {"reason": "late invoice", "by": "ann"},
                 role="accountant")
    assert r.status_code == 201 and r.json()["type"] == "reopen"
    assert api.get("/periods").json()["locked_through"] == "2026-11-30"


def test_tokens_are_shown_once_and_revoked_for_good(api: Api,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="backflush.http.requests")
    made = api.post("/tokens", {"role": "operator", "name": "mes"}, role="admin")
    assert made.status_code == 201
    secret = made.json()["token"]
    assert secret.startswith("bf_")
    listed = api.get("/tokens", role="admin")
    assert secret not in listed.text and "mes" in listed.text
    mes = {"Authorization": f"Bearer {secret}"}
    assert api.client.post(BASE + "/events", json=completion("T-1"), headers=mes
                           ).status_code == 201
    assert api.client.request("DELETE", BASE + "/tokens/mes",
                              headers=api.auth("admin")).status_code == 200
    r = api.client.post(BASE + "/events", json=completion("T-2"), headers=mes)
    assert r.status_code == 401
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert '"status": 401' in logged and secret not in logged
    for value in api.secrets.values():
        assert value not in logged


@pytest.fixture(params=["sqlite-files", "postgresql-schemas"])
def plants(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two plants' ledger URLs: a SQLite file each, or a PostgreSQL schema each in one
    database (chosen by ``options=-csearch_path=...`` in the URL)."""
    if request.param == "sqlite-files":
        yield f"sqlite:///{tmp_path / 'north.db'}", f"sqlite:///{tmp_path / 'south.db'}"
        return
    engine = request.getfixturevalue("pg_engine")
    names = ("plant_north", "plant_south")
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
    north, south = (make_url(PG_SERVER).update_query_dict({"options": f"-csearch_path={n}"})
                    .render_as_string(hide_password=False) for n in names)
    yield north, south
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))


def test_one_server_serves_many_ledgers_apart(plants: tuple[str, str]) -> None:
    north, south = (bf.create_ledger(url) for url in plants)
    try:
        for book in (north, south):
            bf.run_scenario(book.unit_of_work(), bf.load_scenario(
                Path(__file__).parents[2] / "examples" / "stool.yaml"))
        key = create_token(north.unit_of_work(), "operator").secret
        with TestClient(create_app({"north": north, "south": south})) as client:
            auth = {"Authorization": f"Bearer {key}"}
            r = client.post("/api/v1/ledgers/north/events", json=completion("N-1"),
                            headers=auth)
            assert r.status_code == 201
            assert client.get("/api/v1/ledgers/south/events",
                              headers=auth).status_code == 401  # a north token
            assert client.get("/api/v1/ledgers/west/events",
                              headers=auth).status_code == 404
            schema = client.get("/api/v1/openapi.json").json()
            ledger = schema["paths"]["/api/v1/ledgers/{ledger}/events"]["get"]["parameters"]
            assert {"type": "string", "enum": ["north", "south"]} in [
                p["schema"] for p in ledger]
        with south.unit_of_work(read_only=True) as uow:
            assert uow.events.get("N-1") is None and uow.events.count() == 6
        with north.unit_of_work(read_only=True) as uow:
            assert uow.events.get("N-1") is not None and uow.events.count() == 7
    finally:
        north.close()
        south.close()


def test_an_accountant_imports_master_data_and_a_bad_row_imports_nothing(api: Api) -> None:
    url = BASE + "/imports/items?as-of=2026-12-03"
    good = "code,uom,type,standard_cost\nBOLT,ea,purchased,0.25\nNUT,ea,purchased,0.10\n"
    csv = {"Content-Type": "text/csv"}
    assert api.client.post(url, content=good, headers=csv).status_code == 401
    for role in ("viewer", "operator"):
        r = api.client.post(url, content=good, headers={**csv, **api.auth(role)})
        assert r.status_code == 403 and "accountant" in r.json()["detail"]
    r = api.client.post(url, content=good, headers={"Content-Type": "application/json",
                                                    **api.auth("accountant")})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    bad = "code,uom,type,standard_cost\nWASHER,ea,purchased,0.02\nRIVET,ea,purchased,1.5x\n"
    r = api.client.post(url, content=bad, headers={**csv, **api.auth("accountant")})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "standard_cost" and problem["problems"][0]["line"] == 3
    assert "backflush-batch" not in r.text  # the spooled file's name stays on the server
    codes = {i["code"] for i in api.get("/items?limit=1000").json()["items"]}
    assert "WASHER" not in codes  # nothing of the file
    r = api.client.post(url, content=good, headers={**csv, **api.auth("accountant")})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 2 and r.json()["kind"] == "items"
    items = {i["code"]: i for i in api.get("/items?limit=1000").json()["items"]}
    assert items["BOLT"]["standard_cost"].startswith("0.25")


def test_master_data_imports_from_a_workbook_too(api: Api) -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "uom", "type", "standard_cost"])
    sheet.append(["PIN", "ea", "purchased", "0.75"])
    body = io.BytesIO()
    book.save(body)
    r = api.client.post(BASE + "/imports/items", content=body.getvalue(), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        **api.auth("accountant")})
    assert r.status_code == 200 and r.json()["rows"] == 1, r.text
    r = api.client.post(BASE + "/imports/items", content=b"PK\x03\x04not a workbook", headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        **api.auth("accountant")})
    assert r.status_code == 422 and "xlsx" in r.json()["detail"]
