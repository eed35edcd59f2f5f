"""The web pages in a real browser: Playwright driving Debian's Chromium against
``backflush serve`` on loopback. Log in (by keyboard too), open every page with no
accessibility violation axe-core finds, see the API's figures on the pages, drill down from a
journal line to its event, preview and run a close, and refuse a viewer who tries to close.
The screenshots the README links to are made here (docs/screenshots/)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

import backflush as bf
from backflush.domain.events import Completion, Release
from backflush.domain.kanban import Supermarket
from backflush.service_layer.access import create_token
from backflush.service_layer.imports import import_master
from tests.e2e.support import ROOT, STOOL, chromium

SHOTS = ROOT / "docs" / "screenshots"
PAGES = {"dashboard": "", "journal": "journal", "events": "events",
         "variances": "variances?period=2026-11", "income": "income", "close": "close",
         "explain": "explain/WO-1", "items": "items", "bom-accuracy": "bom-accuracy",
         "item": "items/STOOL", "kanban": "kanban"}


@dataclass
class Site:
    base: str
    port: int
    secrets: dict[str, str]

    def api(self, path: str, role: str = "viewer") -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/api/v1/ledgers/main" + path,
                     headers={"Authorization": f"Bearer {self.secrets[role]}"})
        answer = conn.getresponse()
        body = json.loads(answer.read())
        conn.close()
        assert answer.status == 200, body
        return body


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The stool's November (closed) and a December completion, served on loopback."""
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'plant.db'}"
    ledger = bf.create_ledger(url)
    bf.run_scenario(ledger.unit_of_work(), bf.load_scenario(STOOL))
    bf.post_events(ledger.unit_of_work(), [Completion(
        id="WO-D1", date=date(2026, 12, 2), item="STOOL", qty=Decimal(5))])
    # Legs kept at a supermarket (in stores, where the stool draws them) and an order open.
    import_master(ledger.unit_of_work(), "kanban", date(2026, 12, 2),
                  kanban=[Supermarket("LEG", "stores", Decimal(500), Decimal(1))])
    bf.post_events(ledger.unit_of_work(), [Release(
        id="WO-D2", date=date(2026, 12, 2), item="STOOL", qty=Decimal(300))])
    secrets = {role: create_token(ledger.unit_of_work(), role, f"web-{role}").secret
               for role in ("viewer", "accountant")}
    ledger.close()
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "backflush", "serve", "--db", url,
                               "--port", str(port), "--no-log"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.1)
    yield Site(f"http://127.0.0.1:{port}", port, secrets)
    server.terminate()
    _, err = server.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def log_in(page: Page, site: Site, role: str) -> None:
    page.goto(site.base + "/ui/main/")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.get_by_label("API token").fill(site.secrets[role])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")


def no_violations(page: Page) -> None:
    found = Axe().run(page)
    assert found.violations_count == 0, found.generate_report()


def amounts(page: Page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def money(text: str) -> str:
    return text.replace(",", "")


def test_the_login_page_is_accessible_and_refuses_a_bad_token(page: Page, site: Site) -> None:
    page.goto(site.base + "/ui/login")
    no_violations(page)
    page.get_by_label("API token").fill("bf_not-a-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    page.goto(site.base + "/ui/main/journal")
    expect(page).to_have_url(re.compile(r"/ui/login"))  # no session: the login page


def test_a_keyboard_alone_logs_in(page: Page, site: Site) -> None:
    page.goto(site.base + "/ui/login?ledger=main")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    for _ in range(3):  # the ledger, then the token
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "token":
            break
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(site.secrets["viewer"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")


def test_every_page_opens_without_an_accessibility_violation(page: Page, site: Site) -> None:
    log_in(page, site, "viewer")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        response = page.goto(f"{site.base}/ui/main/{path}")
        assert response is not None and response.status == 200, path
        no_violations(page)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing hides
    page.goto(site.base + "/ui/main/")
    no_violations(page)


def test_the_pages_show_the_apis_figures(page: Page, site: Site) -> None:
    log_in(page, site, "viewer")
    balances = {r["account"]: r["debit"] or "-" + r["credit"]
                for r in site.api("/reports/trial-balance")["rows"]}
    shown = page.locator("td[data-account]")
    assert shown.count() >= 2
    for i in range(shown.count()):
        cell = shown.nth(i)
        assert money(cell.inner_text()) == balances[cell.get_attribute("data-account")]
    page.goto(site.base + "/ui/main/variances?period=2026-11")
    api = site.api("/reports/variances?period=2026-11")
    table = page.locator("section[aria-labelledby=fam] table tbody tr")
    assert [money(t) for t in table.locator("td.num").all_inner_texts()] == [
        v for r in [*api["rows"], api["total"]] for k, v in r.items()
        if k == "amount"]
    fall = page.locator("section[aria-labelledby=fall] svg text").all_text_contents()
    standard, *steps, actual = [Decimal(money(t)) for t in fall[1::2]]
    assert steps == [Decimal(r["amount"]) for r in api["rows"]]
    assert actual == standard + Decimal(api["total"]["amount"])
    assert Decimal(money(page.locator("[data-actual]").inner_text())) == actual
    page.goto(site.base + "/ui/main/income?period=2026-11")
    income = site.api("/reports/income?period=2026-11")
    numbers = [money(t) for t in page.locator("table td.num").all_inner_texts()]
    expected = [v for r in income["rows"] for c, v in r.items() if c != income["columns"][0]
                ["name"] and v is not None]
    assert [n for n in numbers if n] == expected


def test_a_journal_line_drills_down_to_its_event(page: Page, site: Site) -> None:
    log_in(page, site, "viewer")
    page.goto(site.base + "/ui/main/journal")
    first = page.locator("tbody[id^=entry-]").first
    seq = first.get_attribute("id").removeprefix("entry-")  # type: ignore[union-attr]
    first.locator("tr.line a").first.click()
    expect(page).to_have_url(re.compile(rf"/ui/main/explain/{seq}$"))
    trail = site.api(f"/explain/{seq}")
    event = trail["event"]["id"]
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Event {event}")
    lines = trail["entries"][0]["lines"]
    debits = [money(t) for t in page.locator(
        f"section[aria-labelledby=e{seq}] table").last.locator("td.num").all_inner_texts()]
    assert [d for d in debits if d] == [v for ln in lines for v in (ln["debit"], ln["credit"])
                                        if Decimal(v)]
    page.get_by_role("link", name="Journal").click()
    page.get_by_label("Account", exact=True).select_option("Accounts Payable")
    page.get_by_role("button", name="Filter").click()
    shown = page.locator("tbody[id^=entry-]")
    assert shown.count() >= 1
    for i in range(shown.count()):
        lines = shown.nth(i).locator("tr.line").all_inner_texts()
        assert any("Accounts Payable" in t for t in lines), lines
    page.get_by_role("link", name="Events").click()
    page.get_by_role("link", name=event, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Event {event}")


def test_a_viewer_sees_the_preview_but_cannot_close(page: Page, site: Site) -> None:
    log_in(page, site, "viewer")
    page.goto(site.base + "/ui/main/close?period=2026-12")
    expect(page.get_by_text("The entries the close would post")).to_be_visible()
    expect(page.get_by_role("button", name="Close 2026-12")).to_have_count(0)
    expect(page.get_by_text("Closing needs the accountant role")).to_be_visible()
    csrf = page.locator("form.logout input[name=csrf]").get_attribute("value")
    refused = page.request.post(site.base + "/ui/main/close",
                                form={"csrf": csrf or "", "period": "2026-12"})
    assert refused.status == 403 and "accountant role" in refused.text()
    assert site.api("/periods")["locked_through"] == "2026-11-30"
    stale = page.request.post(site.base + "/ui/main/close", form={"period": "2026-12"})
    assert stale.status == 403 and "CSRF" in stale.text()


def test_an_accountant_previews_and_closes_a_period(page: Page, site: Site) -> None:
    log_in(page, site, "accountant")
    page.get_by_role("link", name="Period close").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-12")
    preview = page.locator("section[aria-labelledby=changes] td.num").all_inner_texts()
    assert preview, "the preview shows each account's change"
    page.screenshot(path=str(SHOTS / "close-preview.png"), full_page=True)
    page.get_by_role("button", name="Close 2026-12").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-12 is closed")
    assert site.api("/periods")["locked_through"] == "2026-12-31"
    closes = [e["id"] for e in site.api("/events?type=close")["items"]]
    assert closes[-1] == "close-2026-12"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the close pack").click()
    assert download.value.suggested_filename == "close-pack-main-2026-12.xlsx"
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.goto(site.base + "/ui/main/")
    expect(page).to_have_url(re.compile(r"/ui/login"))


def test_items_and_their_bom_trees_show_the_apis_standards(page: Page, site: Site) -> None:
    log_in(page, site, "viewer")
    page.get_by_role("link", name="Items and BOMs").click()
    standards = {i["code"]: i["standard_cost"] for i in site.api("/items")["items"]}
    cells = page.locator("td[data-item]")
    assert cells.count() == len(standards)
    for i in range(cells.count()):
        cell = cells.nth(i)
        expected = standards[cell.get_attribute("data-item") or ""]
        assert Decimal(cell.inner_text() or "0") == Decimal(expected or "0")
    page.get_by_role("link", name="STOOL", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("STOOL")
    total = page.locator("td[data-level=total]").inner_text()
    assert Decimal(total) == Decimal(standards["STOOL"])
    bom = next(b for b in site.api("/boms")["items"] if b["item"] == "STOOL")
    lines = bom["versions"][-1]["lines"]
    rows = page.locator("table.tree td.level-0").all_inner_texts()
    assert [r.strip() for r in rows] == [ln["item"] for ln in lines]


def test_the_kanban_board_shows_the_apis_figures_and_sends_the_cards(page: Page,
                                                                    site: Site) -> None:
    log_in(page, site, "viewer")
    page.goto(site.base + "/ui/main/kanban")
    (line,) = site.api("/kanban")
    for name in ("on_hand", "demand", "open_signals", "replenish_qty"):
        cell = page.locator(f"td[data-kanban='LEG@stores:{name}']")
        assert cell.inner_text().replace(",", "") == line[name], name
    # 300 stools x 3 legs; 585 on hand: 315 short, one container of 500.
    assert (line["demand"], line["on_hand"], line["replenish_qty"]) == ("900", "585", "500")
    expect(page.get_by_role("button", name=re.compile("Send"))).to_have_count(0)
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    clerk = other.new_page()
    log_in(clerk, site, "accountant")
    clerk.goto(site.base + "/ui/main/kanban")
    clerk.get_by_role("button", name="Send 1 signals").click()
    expect(clerk.get_by_role("status")).to_contain_text("Sent 1 signals")
    (after,) = site.api("/kanban")
    assert (after["open_signals"], after["replenish_qty"]) == ("500", "0")
    assert clerk.locator("td[data-kanban='LEG@stores:open_signals']").inner_text() == "500"
    no_violations(clerk)
    other.close()


def test_the_dashboards_trend_shows_each_closed_periods_key_figures(page: Page,
                                                                    site: Site) -> None:
    log_in(page, site, "viewer")
    income = site.api("/reports/income?period=2026-11")
    label = income["columns"][0]["name"]
    (sales,) = [r for r in income["rows"] if r[label] == "Sales"]
    shown = page.locator("td[data-trend='2026-11:sales']").inner_text()
    assert money(shown) == sales[income["columns"][1]["name"]]
