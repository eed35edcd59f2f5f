"""A month at plant scale: streaming memory, then the trial balance and the close.

Workload: N events in one JSON Lines file (a plant's mix: 90 % completions of finished items
with 20-line, 2-level BOMs, 5 % receipts, 5 % sales, with prices) over 30 days, posted with
the default policy the way ``backflush post`` does (streamed, one transaction); then the
trial balance and the close of the month.

Figures and their baselines, measured in the same run:
* the posting rate, and the peak memory of the process (baseline: its memory before
  posting): the file is streamed, so memory must not grow with N;
* the trial balance and the close, in seconds (baseline: one pass over the stored events,
  reading every row, which neither of them needs).

    python bench/bench_scale.py --events 10000000        # SQLite
    python bench/bench_scale.py --events 1000000 --db postgresql
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import (
    START,
    ample_stock,
    arguments,
    fresh_ledger,
    peak_rss_mb,
    plant,
    plant_events,
    report,
    timed,
    write_events,
)
from sqlalchemy import text

from backflush.adapters.files import stream_events
from backflush.domain.events import Close
from backflush.domain.policy import Policy
from backflush.service_layer import reports
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger


def run(kind: str, n: int, as_json: bool) -> None:
    master = plant()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_events(folder / "month.jsonl", plant_events(master, n, "plant"))
        ledger = fresh_ledger(kind, folder)
        set_up_ledger(ledger.unit_of_work(), master, Policy(), START)
        post_events(ledger.unit_of_work(), ample_stock(master))
        before = peak_rss_mb()
        seconds, result = timed(lambda: post_events(ledger.unit_of_work(),
                                                    stream_events(path, master)))
        peak = peak_rss_mb()
        assert result.posted == n, result

        def trial_balance() -> object:
            with ledger.unit_of_work(read_only=True) as uow:
                return reports.trial_balance(uow)

        tb_seconds, _ = timed(trial_balance)
        close = Close(id="close-2026-11", date=START.replace(day=30), period="2026-11")
        close_seconds, _ = timed(lambda: post_events(ledger.unit_of_work(), [close]))

        def scan() -> int:
            with ledger.engine.connect() as conn:
                return sum(1 for _ in conn.execute(text(  # every event with its body
                    "SELECT * FROM events JOIN event_bodies ON events.body = event_bodies.n")))

        scan_seconds, rows = timed(scan)
        ledger.close()
    report(f"a month at scale, {kind}",
           {"events": n, "mix": "90 % completions, 5 % receipts, 5 % sales",
            "journal": "auto (the default)"},
           {"events_per_s": round(n / seconds), "seconds": round(seconds, 1),
            "summarised": result.summarised,
            "peak_rss_mb": round(peak), "rss_before_posting_mb": round(before),
            "trial_balance_s": round(tb_seconds, 3), "close_s": round(close_seconds, 3),
            "baseline": f"one pass over the {rows:,} stored events",
            "baseline_scan_s": round(scan_seconds, 2)}, as_json)


if __name__ == "__main__":
    args = arguments(__doc__ or "", 1_000_000).parse_args()
    run(args.db, args.events, args.json)
