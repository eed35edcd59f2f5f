"""One completion at a time, each in its own durable transaction: what an MES posting a
completion as it happens waits for.

Workload: N completions of the benchmark plant (20-line, 2-level BOMs: 35 parts relieved a
unit), each through ``post_events`` in a unit of work of its own, committed (SQLite in WAL
mode with ``synchronous=FULL``; PostgreSQL SERIALIZABLE), journal: an entry per event.
Figure: the median and 95th percentile latency. Baseline, same run, same database: a durable
commit of one event row.

    python bench/bench_durable.py                 # SQLite, 500 completions
    python bench/bench_durable.py --db postgresql --events 300
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from common import START, ample_stock, arguments, fresh_ledger, plant, report

from backflush.domain.events import Completion
from backflush.domain.policy import Journal, Policy
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(kind: str, n: int, as_json: bool) -> None:
    master = plant()
    rng = random.Random(5)
    finished = sorted(c for c in master.items if c.startswith("F"))
    with tempfile.TemporaryDirectory() as tmp:
        ledger = fresh_ledger(kind, Path(tmp))
        set_up_ledger(ledger.unit_of_work(), master, Policy(journal=Journal.PER_EVENT), START)
        post_events(ledger.unit_of_work(), ample_stock(master))
        latencies = []
        for i in range(n):
            event = Completion(id=f"D{i:06d}", date=START, item=rng.choice(finished),
                               qty=Decimal(rng.randint(1, 20)))
            start = time.perf_counter()
            post_events(ledger.unit_of_work(), [event])
            latencies.append(time.perf_counter() - start)
        base = []
        with ledger.engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE one_row (id TEXT PRIMARY KEY, qty TEXT)")
            conn.commit()
            for i in range(min(n, 300)):
                start = time.perf_counter()
                conn.exec_driver_sql("INSERT INTO one_row VALUES (?, ?)" if kind == "sqlite"
                                     else "INSERT INTO one_row VALUES (%s, %s)", (f"R{i}", "5"))
                conn.commit()
                base.append(time.perf_counter() - start)
        ledger.close()
    median, base_median = statistics.median(latencies), statistics.median(base)
    report(f"durable completion, {kind}",
           {"completions": n, "bom": "20 lines, 2 levels", "journal": "per_event"},
           {"median_ms": round(median * 1000, 3),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 3),
            "baseline": "a durable commit of one event row",
            "baseline_median_ms": round(base_median * 1000, 3),
            "ratio_to_baseline": round(median / base_median, 1)}, as_json)


if __name__ == "__main__":
    args = arguments(__doc__ or "", 500).parse_args()
    run(args.db, args.events, args.json)
