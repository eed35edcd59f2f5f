"""``backflush report bom-accuracy`` on a kept ledger, its ``--tolerance``, the API route and
the page; every bad option refused with exit 2 (422 over HTTP) and nothing written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import backflush as bf_
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import create_token
from tests.accuracy_data import SHARED, WRONG, plant
from tests.e2e.support import bf, ok


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("accuracy")
    scenario = folder / "plant.yaml"
    scenario.write_text(plant(SHARED, WRONG, intervals=8), encoding="utf-8")
    url = f"sqlite:///{folder / 'plant.db'}"
    ok("run", str(scenario), "--db", url)
    return url


def events_in(url: str) -> int:
    with bf_.open_ledger(url).unit_of_work(read_only=True) as uow:
        return uow.events.count()


def test_the_report_flags_the_wrong_line(db: str) -> None:
    out = ok("report", "bom-accuracy", "--db", db, "--format", "json")
    flagged = [r for r in json.loads(out.stdout) if "(flagged)" in r["finding"]]
    assert [r["BOM line"] for r in flagged] == ["STOOL@v1 -> BOLT"]
    table = ok("report", "bom-accuracy", "--db", db).flat
    assert "1 flagged of 3 lines" in table and "tolerance 2%" in table
    assert "1 flagged" not in ok("report", "bom-accuracy", "--db", db, "--tolerance",
                                 "50%").flat


@pytest.mark.parametrize(("args", "message"), [
    (["--tolerance", "abc"], "expected a share such as 0.05 or 5%"),
    (["--tolerance", "1.5"], "must be from 0 to 1"),
    (["--tolerance", "-5%"], "must be from 0 to 1"),
    (["--period", "2026-13"], "expected a month"),
    (["--from", "2026-11-20", "--to", "2026-11-01"], "is after --to"),
])
def test_bad_options_are_refused_and_nothing_is_written(db: str, args: list[str],
                                                         message: str) -> None:
    before = events_in(db)
    out = bf("report", "bom-accuracy", "--db", db, *args)
    assert out.code == 2 and message in out.flat, out.output
    assert events_in(db) == before


def test_the_tolerance_belongs_to_bom_accuracy_only(db: str) -> None:
    out = bf("report", "kpis", "--db", db, "--tolerance", "0.05")
    assert out.code == 2 and "only the bom-accuracy report has a tolerance" in out.flat


def test_the_api_and_the_page(db: str) -> None:
    ledger = bf_.open_ledger(db)
    secret = create_token(ledger.unit_of_work(), "viewer").secret
    auth = {"Authorization": f"Bearer {secret}"}
    base = "/api/v1/ledgers/main/reports/bom-accuracy"
    try:
        with TestClient(create_app({"main": ledger})) as client:
            rows = client.get(base, headers=auth).json()
            (wrong,) = [r for r in rows if r["flagged"]]
            assert (wrong["parent"], wrong["component"], wrong["bom_version"],
                    wrong["qty_per"], wrong["cause"]) == ("STOOL", "BOLT", 1, "3",
                                                          "wrong_bom_line")
            assert abs(float(wrong["estimated_qty_per"]) - 3.5) < 0.05
            loose = client.get(base + "?tolerance=0.5", headers=auth).json()
            assert not any(r["flagged"] for r in loose)
            for query in ("?tolerance=abc", "?tolerance=2", "?period=2026-11&from=2026-11-01",
                          "?from=2026-11-20&to=2026-11-01"):
                answer = client.get(base + query, headers=auth)
                assert answer.status_code == 422, (query, answer.text)
            page = client.get("/ui/login?ledger=main")
            assert page.status_code == 200
    finally:
        ledger.close()
