"""``backflush generate``: a synthetic plant that ``init``, ``import`` and ``post`` accept,
the same files for the same seed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import backflush as bf_api
from backflush.adapters.synthetic import PlantSpec, generate
from tests.e2e.support import bf, doc, files, ok


def test_same_seed_same_files_and_other_seed_other_files(tmp_path: Path) -> None:
    spec = PlantSpec(items=40, depth=3, events=300, seed=3)
    a = generate(spec, tmp_path / "a")
    b = generate(spec, tmp_path / "b")
    c = generate(PlantSpec(items=40, depth=3, events=300, seed=4), tmp_path / "c")
    for pa, pb in zip(a.files, b.files, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert any(pa.read_bytes() != pc.read_bytes()
               for pa, pc in zip(a.files, c.files, strict=True))
    lines = (tmp_path / "a" / "events.jsonl").read_text().splitlines()
    assert len(lines) == 300
    assert all(json.loads(line)["id"] for line in lines)  # every event has its id


def test_a_generated_plant_imports_posts_and_verifies(tmp_path: Path) -> None:
    out = tmp_path / "plant"
    result = ok("generate", str(out), "--items", "50", "--depth", "5", "--fan-out", "4",
                "--events", "400", "--seed", "11")
    assert "Wrote 50 items" in result.stdout
    assert files(out) == {"items.csv", "work-centers.csv", "routings.csv", "boms.csv",
                          "events.jsonl"}
    db = f"sqlite:///{tmp_path / 'g.db'}"
    ok("init", "--db", db, "--as-of", "2026-11-01")
    for kind in ("work-centers", "items", "routings", "boms"):
        ok("import", kind, str(out / f"{kind}.csv"), "--db", db, "--as-of", "2026-11-01")
    posted = ok("post", str(out / "events.jsonl"), "--db", db)
    assert "Posted 400 events" in posted.stdout
    ok("verify", "--db", db)
    assert doc(ok("explain", "E00000002", "--db", db, "--json"))["event"]["id"] == "E00000002"
    assert "400 duplicates skipped" in ok("post", str(out / "events.jsonl"), "--db", db,
                                          "--batch-size", "100").stdout


def test_bad_parameters_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = bf("generate", str(tmp_path / "plant"), "--depth", "11")
    assert out.code == 2 and "depth must be from 1 to 10" in out.stderr
    (tmp_path / "file").write_text("x")
    out = bf("generate", str(tmp_path / "file"))
    assert out.code == 2 and "is a file, not a folder" in out.stderr
    assert files(tmp_path) == {"file"}


def test_a_generated_month_is_one_a_controller_would_believe(tmp_path: Path) -> None:
    """Receipts cover the month's usage (no stock ever short), subassemblies are completed
    before their parents consume them, and the variances are a few per cent of revenue."""
    out = tmp_path / "plant"
    ok("generate", str(out), "--items", "120", "--depth", "4", "--events", "3000",
       "--seed", "5")
    db = f"sqlite:///{tmp_path / 'g.db'}"
    ok("init", "--db", db, "--as-of", "2026-11-01")
    for kind in ("work-centers", "items", "routings", "boms"):
        ok("import", kind, str(out / f"{kind}.csv"), "--db", db, "--as-of", "2026-11-01")
    ok("post", str(out / "events.jsonl"), "--db", db)
    ledger = bf_api.open_ledger(db)
    try:
        with ledger.unit_of_work(read_only=True) as uow:
            shortages = [a for a in uow.events.alerts() if a.code == "negative_stock"]
            stock = bf_api.stock_report(uow)
            balances = dict(bf_api.trial_balance(uow))
            variances = bf_api.variance_report(uow)
    finally:
        ledger.close()
    assert shortages == []
    assert stock and all(row.qty >= 0 for row in stock)
    assert balances["Raw and In-Process Inventory"] > 0
    assert balances["Finished Goods Inventory"] > 0
    revenue = -balances["Sales Revenue"]
    cogs = balances["Cost of Goods Sold"]
    assert Decimal("0.2") < 1 - cogs / revenue < Decimal("0.5")  # a gross margin
    assert {"purchase_price", "usage"} <= set(variances)
    for family, amount in variances.items():
        assert abs(amount) < revenue * Decimal("0.03"), (family, amount)
