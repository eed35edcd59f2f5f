"""Posting a plant's event file into a ledger, from opening the file to the commit.

Workload: N events in a JSON Lines (or CSV) file: completions of finished items whose BOM has
20 lines over 2 levels (15 parts and 5 subassemblies of 4 parts each: 35 parts relieved a
unit), or a plant's mix (90 % completions, 5 % receipts, 5 % sales, with prices), posted in
one call (one transaction) into a ledger made with the default policy (``journal: auto``:
summary entries for a batch this size) or the journal asked. The ledger already holds the
plant and ample stock (not timed).

Figure: events a second. Baseline, measured in the same run on the same database: inserting
exactly the rows the posting wrote (events, entries, lines, moves, balances...) into an
empty ledger schema (same columns, keys and indexes), the database's fastest plain way
(multi-row INSERTs on SQLite, COPY on PostgreSQL). The ratio is the baseline's seconds over
the posting's: 1.0 would be posting as fast as writing its rows.

    python bench/bench_posting.py                                  # SQLite, 1,000,000, JSONL
    python bench/bench_posting.py --db postgresql
    python bench/bench_posting.py --journal per_event --events 20000   # an entry per event
    python bench/bench_posting.py --format csv --mix plant --json
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from common import (
    START,
    ample_stock,
    arguments,
    fresh_ledger,
    insert_baseline,
    plant,
    plant_events,
    report,
    rows_written,
    timed,
    write_events,
)

from backflush.adapters.files import stream_events
from backflush.domain.policy import Journal, Policy
from backflush.service_layer.posting import post_events
from backflush.service_layer.setup import set_up_ledger


def run(kind: str, n: int, fmt: str, journal: str, mix: str, as_json: bool) -> dict[str, Any]:
    master = plant()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_events(folder / f"events.{fmt}", plant_events(master, n, mix))
        ledger = fresh_ledger(kind, folder)
        policy = Policy() if journal == "auto" else Policy(journal=Journal(journal))
        set_up_ledger(ledger.unit_of_work(), master, policy, START)
        post_events(ledger.unit_of_work(), ample_stock(master))
        before = {t: len(r) for t, r in rows_written(ledger).items()}
        seconds, result = timed(lambda: post_events(ledger.unit_of_work(),
                                                    stream_events(path, master)))
        assert result.posted == n, result
        after = rows_written(ledger)
        kept = {"stock_balances", "account_balances"}  # upserted: every row counts
        new = {t: (r if t in kept else r[before[t]:]) for t, r in after.items()}
        tables = [t for t, r in new.items() if r]
        base_seconds, rows = insert_baseline(kind, folder, new, tables)
        ledger.close()
    figures = {
        "events_per_s": round(n / seconds),
        "seconds": round(seconds, 2),
        "summarised": result.summarised,
        "rows_written": rows,
        "rows_per_event": round(rows / n, 2),
        "baseline": "insert the same rows into an empty ledger schema",
        "baseline_seconds": round(base_seconds, 2),
        "baseline_rows_per_s": round(rows / base_seconds),
        "ratio_to_baseline": round(base_seconds / seconds, 3),
    }
    report(f"posting, {kind}", {"events": n, "file": fmt, "mix": mix, "journal": journal,
                                "bom": "20 lines, 2 levels, 35 parts a unit"},
           figures, as_json)
    return figures


if __name__ == "__main__":
    ap = arguments(__doc__ or "", 1_000_000)
    ap.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    ap.add_argument("--journal", choices=["auto", "summary", "per_event"], default="auto")
    ap.add_argument("--mix", choices=["completions", "plant"], default="completions")
    args = ap.parse_args()
    run(args.db, args.events, args.format, args.journal, args.mix, args.json)
