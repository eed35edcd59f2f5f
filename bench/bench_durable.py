"""One completion through the service layer with a durable commit, one at a time.

Workload: a ledger holding the benchmark plant (20-line, 2-level BOMs) with ample stock;
N completions, each posted by ``services.post_events`` in its own transaction and committed
durably (SQLite WAL with synchronous=FULL; PostgreSQL's default fsync).

Figure: the median (and 95th percentile) latency of one posting, commit included.
Baseline, measured in the same run on the same database: the latency of a durable commit of
just the one event row (an INSERT into a copy of the events table, then COMMIT): the floor the
disk's flush sets.

    python bench/bench_durable.py [--db postgresql] [--n 300] [--journal per_event|summary]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bench_posting import baseline_table, fresh_engine
from common import START, plant, report, stock_receipts, subassembly_stock

from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.domain.events import Completion
from backflush.domain.policy import Journal, Policy
from backflush.service_layer import services


def run(kind: str, n: int, journal: str, as_json: bool) -> None:
    master = plant()
    finished = sorted(c for c in master.items if c.startswith("F"))
    with tempfile.TemporaryDirectory() as tmp:
        engine = fresh_engine(kind, Path(tmp))
        services.set_up_ledger(SqlUnitOfWork(engine), master,
                               replace(Policy(), journal=Journal(journal)), START)
        services.post_events(SqlUnitOfWork(engine), stock_receipts(master)
                             + subassembly_stock(master))
        latencies = []
        for i in range(n):
            event = Completion(id=f"ONE-{i:06d}", date=START + timedelta(days=i % 28),
                               item=finished[i % len(finished)], qty=Decimal(1 + i % 5))
            t = time.perf_counter()
            services.post_events(SqlUnitOfWork(engine), [event])
            latencies.append(time.perf_counter() - t)
        table = baseline_table(engine)
        floor = []
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            mark = "%s" if kind == "postgresql" else "?"
            sql = (f"INSERT INTO {table.name} (id, type, date, item, qty, cost_version) "
                   f"VALUES ({', '.join([mark] * 6)})")
            for i in range(n):
                conn.begin()
                cur = raw.cursor()
                cur.execute(sql, (f"ONE-{i:06d}", "completion", START.isoformat(), finished[0],
                                  "1", 1))
                t = time.perf_counter()
                conn.commit()
                floor.append(time.perf_counter() - t)
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE {table.name}")
        engine.dispose()
    ms = sorted(x * 1000 for x in latencies)
    base = statistics.median(floor) * 1000
    report(f"one durable completion, {kind}", {"completions": n, "journal": journal,
                                              "bom": "20 lines, 2 levels"}, {
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 3),
        "baseline": "durable commit of the one event row",
        "baseline_median_ms": round(base, 3),
        "ratio_to_baseline": round(statistics.median(ms) / base, 2),
    }, as_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--journal", choices=["per_event", "summary"], default="per_event")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    run(args.db, args.n, args.journal, args.json)


if __name__ == "__main__":
    main()
