"""Streaming import, close and trial balance of a big month.

Workload: N events in one CSV file (80 % completions of finished items with 20-line, 2-level
BOMs, 20 % sales of them), over 30 days, journal: summary, posted by the same path as
``backflush post`` (streamed, one transaction); then the trial balance and the close of
the month.

Figures and their baselines, measured in the same run:
* posting rate, and the peak memory of the process and of the process reading the file
  ahead (baseline: memory before posting);
* trial balance and close, in seconds (baseline: one pass over the stored events, reading
  every row, which neither of them needs).

    python bench/bench_scale.py --events 10000000        # SQLite
    python bench/bench_scale.py --events 1000000 --db postgresql
"""

from __future__ import annotations

import csv
import random
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench_posting import fresh_engine, set_up
from common import DAYS, START, main, peak_rss_mb, plant, report

from backflush.adapters import tabular
from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.domain.costing import MasterData
from backflush.domain.events import Close
from backflush.service_layer import reports, services


def month_csv(path: Path, master: MasterData, n: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    finished = sorted(c for c in master.items if c.startswith("F"))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "type", "item", "qty", "unit_price"])
        for i in range(n):
            day = (START + timedelta(days=i * DAYS // max(n, 1))).isoformat()
            if rng.random() < 0.8:
                w.writerow([f"E{i:09d}", day, "completion", rng.choice(finished),
                            rng.randint(1, 20), ""])
            else:
                w.writerow([f"E{i:09d}", day, "sale", rng.choice(finished),
                            rng.randint(1, 5), f"{rng.randint(20_000, 90_000) / 100:.2f}"])


def run(kind: str, n: int, as_json: bool) -> None:
    master = plant()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "month.csv"
        month_csv(path, master, n)
        engine = fresh_engine(kind, folder)
        set_up(engine, master)
        before_mb = peak_rss_mb()
        t = time.perf_counter()
        result = services.post_events(SqlUnitOfWork(engine), tabular.stream_events(path, master))
        posting = time.perf_counter() - t
        peak_mb = peak_rss_mb()
        # The process that read the file ahead (a forked child; 0 when the file is read in
        # this process). Its resident pages include those it shares with this process, so
        # the sum of the two peaks overstates what both held together.
        reader_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        assert result.posted == n, result
        t = time.perf_counter()
        with SqlUnitOfWork(engine, read_only=True) as uow:
            tb = reports.trial_balance(uow.ledger)
        tb_s = time.perf_counter() - t
        t = time.perf_counter()
        services.post_events(SqlUnitOfWork(engine),
                             [Close(id="close-2026-11", date=START + timedelta(days=29),
                                    period="2026-11")])
        close_s = time.perf_counter() - t
        t = time.perf_counter()
        with engine.connect() as c:
            stored, _ = c.exec_driver_sql(
                "SELECT count(*), sum(cost_version) FROM events").one()  # reads every row
        scan_s = time.perf_counter() - t
        engine.dispose()
    report(f"a month at scale, {kind}", {"events": n, "completions": "80 %", "sales": "20 %",
                                        "journal": "summary", "accounts": len(tb)}, {
        "posting_events_per_s": round(n / posting),
        "posting_seconds": round(posting, 1),
        "summarised": result.summarised,
        "peak_memory_mb": round(peak_mb),
        "reader_process_peak_mb": round(reader_mb),
        "peak_memory_both_processes_mb": round(peak_mb + reader_mb),
        "memory_before_posting_mb": round(before_mb),
        "memory_growth_mb": round(peak_mb - before_mb),
        "trial_balance_s": round(tb_s, 3),
        "close_s": round(close_s, 3),
        "baseline": f"one pass over the {stored} stored events (reading every row)",
        "baseline_s": round(scan_s, 3),
        "close_to_baseline": round(close_s / scan_s, 3),
        "trial_balance_to_baseline": round(tb_s / scan_s, 4),
    }, as_json)


if __name__ == "__main__":
    main(__doc__ or "", run, 10_000_000)
