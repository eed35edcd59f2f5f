"""Posting a plant's event file into a ledger, from opening the file to the commit.

Workload: N events in a JSON Lines (or CSV) file: completions of finished items whose BOM has
20 lines over 2 levels (15 parts and 5 subassemblies of 4 parts each: 35 parts relieved a
unit), or a plant's mix (90 % completions, 5 % receipts, 5 % sales, with prices), posted in
one call (one transaction) into a ledger made with the default policy (``journal: auto``:
summary entries for a batch this size) or the journal asked. The ledger already holds the
plant and ample stock (not timed).

Figure: events a second. Two baselines, measured in the same run on the same database, each
the database's fastest plain way (multi-row INSERTs on SQLite, COPY on PostgreSQL), as a
ratio of the baseline's seconds over the posting's (1.0: posting as fast as the inserts):

* ``ratio_to_event_rows``: inserting the same events as plain rows, one a row with a unique
  key on the id (the events table of 0.1: id, type, date, item, qty, the other fields...).
  The targets (>= 0.5) were set against this one.
* ``ratio_to_rows_written``: inserting exactly the rows the posting wrote (events and their
  shared bodies, entries, lines, moves, balances...) into an empty ledger schema (same
  columns, keys and indexes). The events of a summary's slot share one body, so this is a
  million short rows for a million completions: close to the cheapest insert there is.

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
    insert_plain_events,
    plain_event_rows,
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
        plain_seconds, _ = insert_plain_events(kind, folder, plain_event_rows(new))
        ledger.close()
    figures = {
        "events_per_s": round(n / seconds),
        "seconds": round(seconds, 2),
        "summarised": result.summarised,
        "rows_written": rows,
        "rows_per_event": round(rows / n, 2),
        "event_rows_seconds": round(plain_seconds, 2),
        "event_rows_per_s": round(n / plain_seconds),
        "ratio_to_event_rows": round(plain_seconds / seconds, 3),
        "rows_written_seconds": round(base_seconds, 2),
        "rows_written_per_s": round(rows / base_seconds),
        "ratio_to_rows_written": round(base_seconds / seconds, 3),
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
