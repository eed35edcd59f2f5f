"""The pages' sessions through the real application (ASGI client, no browser): the login's
CSRF, where a login may send the browser, a revoked token ending its sessions, a session
kept to its ledger, and the headers every page carries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import backflush as bf
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import create_token, revoke_token
from tests.e2e.support import STOOL


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, bf.Ledger, str]]:
    ledger = bf.create_ledger(f"sqlite:///{tmp_path / 'plant.db'}")
    other = bf.create_ledger(f"sqlite:///{tmp_path / 'other.db'}")
    for book in (ledger, other):
        bf.run_scenario(book.unit_of_work(), bf.load_scenario(STOOL))
    secret = create_token(ledger.unit_of_work(), "viewer", "ann").secret
    with TestClient(create_app({"main": ledger, "other": other})) as client:
        yield client, ledger, secret
    ledger.close()
    other.close()


def login_form(client: TestClient) -> str:
    page = client.get("/ui/login?ledger=main")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def log_in(client: TestClient, secret: str, back: str = "") -> str:
    answer = client.post("/ui/login", data={"csrf": login_form(client), "ledger": "main",
                                            "token": secret, "back": back},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_a_login_form_without_its_csrf_token_is_refused(
        served: tuple[TestClient, bf.Ledger, str]) -> None:
    client, _, secret = served
    login_form(client)
    answer = client.post("/ui/login", data={"csrf": "forged", "ledger": "main",
                                            "token": secret}, follow_redirects=False)
    assert answer.status_code == 403 and "stale" in answer.text
    assert client.get("/ui/main/", follow_redirects=False).status_code == 303  # no session


def test_a_login_goes_back_to_a_page_of_its_ledger_only(
        served: tuple[TestClient, bf.Ledger, str]) -> None:
    client, _, secret = served
    assert log_in(client, secret, "/ui/main/journal?after=3") == "/ui/main/journal?after=3"
    for elsewhere in ("//evil.example/ui/main/", "https://evil.example/", "/ui/other/",
                      "/ui/main//evil"):
        assert log_in(client, secret, elsewhere) == "/ui/main/"


def test_a_session_is_of_one_ledger_and_ends_when_its_token_is_revoked(
        served: tuple[TestClient, bf.Ledger, str]) -> None:
    client, ledger, secret = served
    log_in(client, secret)
    page = client.get("/ui/main/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert secret not in page.text
    cookie = page.request.headers.get("cookie", "")
    assert "bf_session=" in cookie and secret not in cookie
    moved = client.get("/ui/other/", follow_redirects=False)
    assert moved.status_code == 303 and "ledger=other" in moved.headers["location"]
    revoke_token(ledger.unit_of_work(), "ann")
    gone = client.get("/ui/main/journal", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/ui/login")


def test_a_wrong_token_and_an_unknown_ledger_are_said_plainly(
        served: tuple[TestClient, bf.Ledger, str]) -> None:
    client, _, _ = served
    answer = client.post("/ui/login", data={"csrf": login_form(client), "ledger": "main",
                                            "token": "bf_wrong"})
    assert answer.status_code == 401 and "unknown or revoked" in answer.text
    missing = client.get("/ui/west/")
    assert missing.status_code == 404 and "west" in missing.text


def test_the_demo_plants_bom_tree_and_bom_accuracy_pages(tmp_path: Path) -> None:
    """A 3-level BOM with a phantom base kit, and the casters the month's counts point at."""
    from tests.e2e.support import ok

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    ok("demo", "--db", url)
    ledger = bf.open_ledger(url)
    secret = create_token(ledger.unit_of_work(), "viewer").secret
    try:
        with TestClient(create_app({"main": ledger})) as client:
            log_in(client, secret)
            page = client.get("/ui/main/items/CH-TASK").text
            assert "BASE-KIT" in page and "phantom" in page
            assert 'class="level-1"' in page and "CASTER-50" in page  # under the base kit
            found = client.get("/ui/main/bom-accuracy").text
            api = client.get("/api/v1/ledgers/main/reports/bom-accuracy",
                             headers={"Authorization": f"Bearer {secret}"}).json()
            assert api, "the demo's counts point at a BOM line"
            assert any(f["flagged"] for f in api), "the casters"
            for f in api:
                if f["flagged"]:
                    assert f'data-suggested="{f["component"]}">{f["suggested_qty_per"]}<' \
                        in found
            forced = client.get("/ui/main/close?period=2026-12&force=true").text
            assert "The entries the close would post" in forced
            assert 'id="force" name="force" type="checkbox" value="true" checked' in forced
    finally:
        ledger.close()
