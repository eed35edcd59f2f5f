"""The HTTP API under load from a generator on loopback.

Workload: the benchmark plant (20-line, 2-level BOMs: 35 parts relieved a unit) in a ledger
made with the default policy, served by ``backflush serve`` (uvicorn, one process) in a
process of its own. (1) 8 clients, each on one keep-alive connection, post completions one
by one (``POST /events``) for ``--seconds`` seconds; (2) one client posts ``--events``
completions as one streamed JSON Lines body (``POST /events/batch``, all or nothing).
Figures: single-event POSTs a second with the median and 99th percentile latency; batch
events a second. Baselines, same run, same database kind: the service call without HTTP
(``post_one`` for an event, durable, one caller; ``post_events`` of the same JSON Lines
file, in a fresh ledger).

    python bench/bench_api.py                        # SQLite
    python bench/bench_api.py --db postgresql --events 200000
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import (
    PG_SERVER,
    START,
    ample_stock,
    arguments,
    fresh_ledger,
    plant,
    plant_events,
    report,
    write_events,
)
from sqlalchemy import make_url

from backflush.adapters.files import stream_events
from backflush.adapters.sql import SqlLedger
from backflush.domain.events import Completion
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Policy
from backflush.service_layer.access import create_token
from backflush.service_layer.batch import Located
from backflush.service_layer.posting import post_events, post_one
from backflush.service_layer.setup import set_up_ledger

CLIENTS = 8


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def ready_ledger(kind: str, folder: Path, master: MasterData, name: str) -> SqlLedger:
    ledger = fresh_ledger(kind, folder, name)
    set_up_ledger(ledger.unit_of_work(), master, Policy(), START)
    post_events(ledger.unit_of_work(), ample_stock(master))
    return ledger


def served_url(kind: str, folder: Path) -> str:
    """The URL of the ledger ``ready_ledger(kind, folder, ..., "api")`` made (with its
    password, which ``SqlLedger.url`` hides)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'api.db'}"
    return make_url(PG_SERVER).set(database="backflush_api").render_as_string(
        hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "backflush", "serve", "--db", url,
                               "--port", str(port), "--no-log"],
                              stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-2000:]}"
                     if server.stderr else "the server did not start")


def completion(ident: str, rng: random.Random, finished: list[str]) -> dict[str, Any]:
    return {"id": ident, "type": "completion", "date": START.isoformat(),
            "item": rng.choice(finished), "qty": str(rng.randint(1, 20))}


def load(port: int, secret: str, finished: list[str], seconds: float
         ) -> tuple[int, list[float], float]:
    """8 clients posting one completion at a time: (posted, latencies, elapsed)."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    barrier = threading.Barrier(CLIENTS + 1)
    stop = time.perf_counter() + 3600.0
    stop_at = [stop]

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        i = 0
        while time.perf_counter() < stop_at[0]:
            body = json.dumps(completion(f"H{n}-{i:07d}", rng, finished))
            start = time.perf_counter()
            conn.request("POST", "/api/v1/ledgers/main/events", body, headers)
            answer = conn.getresponse()
            answer.read()
            latencies[n].append(time.perf_counter() - start)
            if answer.status != 201:
                failures.append(f"{answer.status}")
                return
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    begin = time.perf_counter()
    stop_at[0] = begin + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    if failures:
        raise SystemExit(f"a POST failed: {failures[:3]}")
    flat = [x for per in latencies for x in per]
    return len(flat), flat, elapsed


def service_one(ledger: SqlLedger, finished: list[str], n: int) -> float:
    """Events a second through ``post_one`` (the route's service call), one caller."""
    rng = random.Random(99)
    start = time.perf_counter()
    for i in range(n):
        event = Completion(id=f"S{i:07d}", date=START, item=rng.choice(finished),
                           qty=Decimal(rng.randint(1, 20)))
        post_one(ledger.unit_of_work(), lambda uow, e=event: Located(e))
    return n / (time.perf_counter() - start)


def post_file(port: int, secret: str, path: Path) -> tuple[int, float, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    start = time.perf_counter()
    with path.open("rb") as body:
        conn.request("POST", "/api/v1/ledgers/main/events/batch", body,
                     {"Authorization": f"Bearer {secret}",
                      "Content-Type": "application/x-ndjson",
                      "Content-Length": str(path.stat().st_size)})
        answer = conn.getresponse()
        data = json.loads(answer.read())
    return answer.status, time.perf_counter() - start, data


def run(kind: str, seconds: float, batch: int, as_json: bool) -> None:
    master = plant()
    finished = sorted(c for c in master.items if c.startswith("F"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger = ready_ledger(kind, folder, master, "api")
        secret = create_token(ledger.unit_of_work(), "operator", "bench").secret
        base_one = service_one(ledger, finished, 300)
        port = free_port()
        server = start_server(served_url(kind, folder), port)
        try:
            posted, lat, elapsed = load(port, secret, finished, seconds)
            path = write_events(folder / "batch.jsonl", plant_events(master, batch,
                                                                    "completions"))
            status, took, answer = post_file(port, secret, path)
            if status != 200 or answer.get("posted") != batch:
                raise SystemExit(f"the batch failed: {status} {str(answer)[:500]}")
        finally:
            server.terminate()
            server.wait(30)
        ledger.close()
        plain = ready_ledger(kind, folder, master, "api_base")
        start = time.perf_counter()
        result = post_events(plain.unit_of_work(), stream_events(path, master))
        base_took = time.perf_counter() - start
        assert result.posted == batch, result
        plain.close()
    rate = posted / elapsed
    report(f"HTTP API, {kind}",
           {"clients": CLIENTS, "seconds": seconds, "bom": "20 lines, 2 levels",
            "policy": "default (journal: auto)", "batch_events": batch,
            "server": "backflush serve (uvicorn, one process) on loopback"},
           {"single_posts_per_s": round(rate, 1),
            "single_median_ms": round(statistics.median(lat) * 1000, 2),
            "single_p99_ms": round(percentile(lat, 0.99) * 1000, 2),
            "single_baseline": "post_one without HTTP, durable, one caller",
            "single_baseline_per_s": round(base_one, 1),
            "single_ratio_to_baseline": round(rate / base_one, 2),
            "batch_events_per_s": round(batch / took),
            "batch_seconds": round(took, 2),
            "batch_baseline": "post_events of the same JSON Lines file, no HTTP",
            "batch_baseline_events_per_s": round(batch / base_took),
            "batch_ratio_to_baseline": round(base_took / took, 2)}, as_json)


if __name__ == "__main__":
    ap = arguments(__doc__ or "", 100_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    run(args.db, args.seconds, args.events, args.json)
