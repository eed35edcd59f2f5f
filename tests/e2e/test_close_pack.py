"""The close pack (issue 15, item 8): the workbook reloads and its totals equal the ledger's;
the page renders in Chromium with the same figures; the command refuses what it cannot do."""

from __future__ import annotations

import subprocess
import zipfile
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import bf, chromium, doc, ok, stool_ledger


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """The demo's --json document, and its close pack as a workbook and as a page."""
    folder = tmp_path_factory.mktemp("pack")
    book, page = folder / "pack.xlsx", folder / "pack.html"
    document = doc(ok("demo", "--json", "--close-pack", str(book)))
    ok("demo", "--close-pack", str(page))
    return document, book, page


def sheet(book: Path, name: str) -> list[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(book, read_only=True)
    try:
        rows = [list(row) for row in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
    width = len(rows[0])  # (a read-only sheet leaves trailing empty cells out)
    return [row + [None] * (width - len(row)) for row in rows]


def cents(value: Any) -> Decimal:
    """A workbook number (a binary float once reloaded) back to the cent it was written as."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_workbook_reloads_and_its_totals_are_the_ledgers(
        demo_pack: tuple[dict[str, Any], Path, Path]) -> None:
    document, book, _ = demo_pack
    (period,) = document["periods"]
    from openpyxl import load_workbook

    wb = load_workbook(book, read_only=True)
    names = wb.sheetnames
    wb.close()
    assert names == [
        "trial-balance", "income", "gaap", "variances", "analysis", "variances-by-item",
        "stock", "comparison"]
    balances = {a: Decimal(v) for a, v in period["balances"].items()}
    header, *rows, total = sheet(book, "trial-balance")
    assert header == ["account", "debit", "credit"] and total[0] == "Total"
    assert {r[0]: cents(r[1] or 0) - cents(r[2] or 0) for r in rows} == balances
    assert cents(total[1]) == sum((v for v in balances.values() if v > 0), Decimal(0))
    assert cents(total[1]) == cents(total[2])
    income = {r[0]: r for r in sheet(book, "income")}
    statement = period["income_statement"]
    assert cents(income["Operating income"][1]) == Decimal(
        statement["absorption"]["operating_income"])
    assert cents(income["Operating income"][2]) == Decimal(
        statement["throughput"]["operating_income"])
    assert cents(income["Operating income"][3]) == Decimal(statement["gaap"]["operating_income"])
    gaap = {r[0]: cents(r[3]) for r in sheet(book, "gaap")[1:]}
    assert {a: v for a, v in gaap.items() if v} == {
        a: Decimal(v) for a, v in period["gaap_balances"].items()}
    *_, variance_total = sheet(book, "variances")
    assert cents(variance_total[1]) == sum(
        (Decimal(v) for v in period["variance_analysis"]["families"].values()), Decimal(0))
    *_, by_item_total = sheet(book, "variances-by-item")
    assert cents(by_item_total[2]) == cents(variance_total[1])
    *_, stock_total = sheet(book, "stock")
    assert cents(stock_total[3]) == sum((Decimal(s["value"]) for s in document["stock"]),
                                        Decimal(0))
    # The same events costed by sequential tracking, beside the books as they stand now.
    compared = {r[0]: r for r in sheet(book, "comparison")[1:]}
    assert cents(compared["Finished Goods Inventory"][1]) == Decimal(
        document["balances"]["Finished Goods Inventory"])
    assert "Work in Process" in compared or "Materials Inventory" in compared
    with zipfile.ZipFile(book) as z:  # native charts: incomes, variances, their analysis
        assert sorted(n for n in z.namelist() if n.startswith("xl/charts/")) == [
            "xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/charts/chart3.xml"]


class Cells(HTMLParser):
    """The text of every table cell, and the charts, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.svgs = 0
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in = tag in ("td", "th")
        if self._in:
            self.cells.append("")
        self.svgs += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


def grouped(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def test_the_page_shows_the_same_figures(demo_pack: tuple[dict[str, Any], Path, Path]) -> None:
    document, _, page = demo_pack
    (period,) = document["periods"]
    parsed = Cells()
    parsed.feed(page.read_text("utf-8"))
    assert parsed.svgs == 3  # incomes, variances, their analysis
    statement = period["income_statement"]
    for figure in (statement["absorption"]["operating_income"],
                   statement["throughput"]["operating_income"],
                   statement["gaap"]["operating_income"],
                   *period["gaap_balances"].values()):
        assert grouped(figure) in parsed.cells, figure


def test_the_page_renders_in_chromium(demo_pack: tuple[dict[str, Any], Path, Path],
                                      tmp_path: Path) -> None:
    document, _, page = demo_pack
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    income = document["periods"][0]["income_statement"]["absorption"]["operating_income"]
    assert "Operating income" in dom and grouped(income) in dom
    shot = tmp_path / "pack.png"
    subprocess.run([*browser, f"--screenshot={shot}", "--window-size=1000,1400",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_on_a_kept_ledger(sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "pack.xlsx"
    wrong = bf("close-pack", "--output", str(tmp_path / "pack.pdf"), "--db", sqlite_url)
    assert wrong.code == 2 and ".xlsx workbook or an .html page" in wrong.stderr
    stool_ledger(sqlite_url)
    made = ok("close-pack", "--output", str(out), "--db", sqlite_url)
    assert "Wrote the close pack of 2026-11 (6 reports)" in made.flat  # no bridge: no gaap
    income = {r[0]: r for r in sheet(out, "income")}
    assert cents(income["Operating income"][1]) == Decimal("-136700.00")  # no sale prices
    ok("reopen", "2026-11", "--reason", "test", "--by", "qa", "--db", sqlite_url)
    none = bf("close-pack", "--output", str(out), "--db", sqlite_url)
    assert none.code == 2 and "no period is closed yet" in none.stderr
    assert bf("close-pack", "--period", "2026-13", "--output", str(out), "--db",
              sqlite_url).code == 2


def test_run_refuses_a_pack_of_a_scenario_that_closes_nothing(tmp_path: Path) -> None:
    from tests.e2e.support import STOOL, write

    open_month = write(tmp_path / "open.yaml", "\n".join(
        ln for ln in STOOL.read_text().splitlines() if "type: close" not in ln) + "\n")
    out = bf("run", str(open_month), "--close-pack", str(tmp_path / "p.xlsx"))
    assert out.code == 2 and "closes no period" in out.stderr
    assert not (tmp_path / "p.xlsx").exists()
