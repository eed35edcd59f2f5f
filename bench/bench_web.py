"""The pages' server time on a large ledger.

Workload: a month of N events (default 10,000,000) of the plant's mix (90 % completions with
20-line, 2-level BOMs, 5 % receipts, 5 % sales) posted with the default policy, November
closed, then 1,000 December completions posted one by one (entries of their own, so the
journal's last pages are full pages). A viewer logged in; every page asked through the real
application in-process (ASGI: the server's time, no network), the median of 5 after one
warm-up. Baseline, same run: ``GET /api/v1/health`` (the application's fixed cost).
Target: every page within 200 ms.

    python bench/bench_web.py                       # SQLite, 10,000,000 events (~15 min)
    python bench/bench_web.py --events 200000
    python bench/bench_web.py --keep big.db         # build once into big.db, then reuse it
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from common import START, ample_stock, arguments, plant, plant_events, report, write_events
from fastapi.testclient import TestClient
from sqlalchemy import text

from backflush.adapters.files import stream_events
from backflush.adapters.sql import SqlLedger
from backflush.domain.events import Close, Completion
from backflush.domain.policy import Policy
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import create_token
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger

TARGET_MS = 200.0


def build(path: Path, n: int) -> None:
    master = plant()
    ledger = SqlLedger.create(f"sqlite:///{path}")
    set_up_ledger(ledger.unit_of_work(), master, Policy(), START)
    post_events(ledger.unit_of_work(), ample_stock(master))
    events = write_events(path.with_suffix(".jsonl"), plant_events(master, n, "plant"))
    result = post_events(ledger.unit_of_work(), stream_events(events, master))
    assert result.posted == n, result
    events.unlink()
    ledger.close()


def finish(path: Path) -> None:
    """November closed (forced: at 10,000,000 events the synthetic plant runs its
    subassemblies below zero, which a close refuses unless forced), then 1,000 December
    completions one by one. Skipped when done (a kept ledger built before)."""
    ledger = SqlLedger.open(f"sqlite:///{path}")
    with ledger.unit_of_work(read_only=True) as uow:
        done = uow.events.get("DEC-00999") is not None
        master = uow.master.master()
        closed = uow.events.get("close-2026-11") is not None
    if not closed:
        post_events(ledger.unit_of_work(), [Close(
            id="close-2026-11", date=date(2026, 11, 30), period="2026-11", force=True)])
    if not done:
        finished = sorted(c for c in master.items if c.startswith("F"))
        for i in range(1000):  # one by one, as an MES posts: an entry each
            post_events(ledger.unit_of_work(), [Completion(
                id=f"DEC-{i:05d}", date=date(2026, 12, 1 + i % 28),
                item=finished[i % len(finished)], qty=Decimal(1 + i % 7))])
    ledger.close()


def timed_ms(client: TestClient, path: str, runs: int = 5) -> tuple[float, str]:
    """The median milliseconds of ``runs`` GETs after a warm-up, and the answer."""
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), answer.text


def run(n: int, keep: str | None, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(keep) if keep else Path(tmp) / "big.db"
        build_s = 0.0
        if not path.exists():
            start = time.perf_counter()
            build(path, n)
            build_s = time.perf_counter() - start
        finish(path)
        ledger = SqlLedger.open(f"sqlite:///{path}")
        with ledger.unit_of_work(read_only=True) as uow:
            count = uow.events.count()
            finished = min(c for c in uow.master.master().items if c.startswith("F"))
        with ledger.engine.connect() as conn:
            entries = conn.execute(text("SELECT max(seq) FROM journal_entries")).scalar_one()
        secret = create_token(ledger.unit_of_work(), "viewer").secret
        with TestClient(create_app({"main": ledger})) as client:
            page = client.get("/ui/login?ledger=main")
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert found is not None
            client.post("/ui/login", data={"csrf": found.group(1), "ledger": "main",
                                           "token": secret})
            deep_entry = max(0, entries - 50)
            base_ms, _ = timed_ms(client, "/api/v1/health")
            pages = {
                "dashboard": "/ui/main/",
                "journal, first page": "/ui/main/journal",
                "journal, last page": f"/ui/main/journal?after={deep_entry}",
                "events, first page": "/ui/main/events",
                "events, last page": f"/ui/main/events?after={count - 50}",
                "events of a type (sales), first page": "/ui/main/events?type=sale",
                "explain an event": "/ui/main/explain/DEC-00999",
                "variances, November": "/ui/main/variances?period=2026-11",
                "income statements": "/ui/main/income?period=2026-11",
                "close preview, December (forced)": "/ui/main/close?period=2026-12&force=true",
                "items, first page": "/ui/main/items",
                "an item's BOM tree": f"/ui/main/items/{finished}",
                "BOM accuracy": "/ui/main/bom-accuracy",
                "kanban board": "/ui/main/kanban",
            }
            figures: dict[str, object] = {}
            for name, url in pages.items():
                ms, body = timed_ms(client, url)
                if "preview" in name:  # (a refusal would be quick, and no preview)
                    assert "The entries the close would post" in body, body[-2000:]
                figures[f"{name} ms"] = round(ms, 1)
                figures[f"{name} ratio to baseline"] = round(ms / base_ms, 1)
            worst = max(v for k, v in figures.items() if k.endswith(" ms"))
        ledger.close()
    report("pages on a large ledger",
           {"events": count, "built_s": round(build_s, 1) if build_s else "reused",
            "runs": "median of 5 after a warm-up"},
           {"baseline": "GET /api/v1/health", "baseline_ms": round(base_ms, 2), **figures,
            "slowest_ms": worst, "target_ms": TARGET_MS}, as_json)


if __name__ == "__main__":
    ap = arguments(__doc__ or "", 10_000_000)
    ap.add_argument("--keep", help="a SQLite file to build the ledger into once and reuse")
    args = ap.parse_args()
    run(args.events, args.keep, args.json)
