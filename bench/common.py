"""Shared helpers of the benchmarks: a plant with 20-component, 2-level BOMs, event files."""

from __future__ import annotations

import csv
import json
import random
import resource
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import MasterData
from backflush.domain.items import Item
from backflush.domain.routing import Operation, WorkCenter

START = date(2026, 11, 1)
DAYS = 30


def plant(finished: int = 50, parts: int = 400, subassemblies: int = 40,
          seed: int = 1) -> MasterData:
    """Finished items with 20-line BOMs: 15 purchased parts and 5 subassemblies, each
    subassembly made of 4 purchased parts (a 2-level BOM, 35 parts relieved per unit)."""
    rng = random.Random(seed)
    items: dict[str, Item] = {}
    for i in range(parts):
        code = f"P{i:05d}"
        items[code] = Item(code, standard_cost=Decimal(rng.randint(5, 50_000)) / 100)
    part_codes = sorted(items)
    versions = []
    wcs = {"ASSY": WorkCenter("ASSY", Decimal("38.50"), Decimal("61.25")),
           "SUB": WorkCenter("SUB", Decimal("31.00"), Decimal("44.80"))}
    routings: dict[str, tuple[Operation, ...]] = {}
    subs = [f"S{i:04d}" for i in range(subassemblies)]
    for code in subs:
        items[code] = Item(code, made=True)
        lines = tuple(BomLine(p, Decimal(rng.choice((1, 2, 3))),
                              Decimal(rng.choice(("0", "0", "0.02"))))
                      for p in rng.sample(part_codes, 4))
        versions.append(BomVersion(code, 1, date(2000, 1, 1), lines))
        routings[code] = (Operation(10, "SUB", Decimal(rng.randint(5, 30)) / 100),)
    for i in range(finished):
        code = f"F{i:04d}"
        items[code] = Item(code, made=True)
        comps = [(p, Decimal(rng.choice((1, 1, 2, 4)))) for p in rng.sample(part_codes, 15)]
        comps += [(s, Decimal(1)) for s in rng.sample(subs, 5)]
        lines = tuple(BomLine(c, q, Decimal(rng.choice(("0", "0", "0.01", "0.05"))))
                      for c, q in comps)
        versions.append(BomVersion(code, 1, date(2000, 1, 1), lines))
        routings[code] = (Operation(10, "ASSY", Decimal(rng.randint(10, 90)) / 100),)
    return MasterData(items, Boms.of(versions), wcs, routings)


def completions_csv(path: Path, master: MasterData, n: int, seed: int = 2,
                    prefix: str = "WO", first_day: int = 0, days: int = DAYS) -> Path:
    """n completions of finished items, in date order over ``days`` days from START +
    ``first_day``, as a CSV event file."""
    rng = random.Random(seed)
    finished = sorted(c for c in master.items if c.startswith("F"))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "type", "item", "qty"])
        for i in range(n):
            day = START + timedelta(days=first_day + i * days // max(n, 1))
            w.writerow([f"{prefix}{i:09d}", day.isoformat(), "completion",
                        rng.choice(finished), rng.randint(1, 20)])
    return path


def stock_receipts(master: MasterData, qty: int = 10**12) -> list[Any]:
    """Receipts giving ample stock of every purchased part and subassembly (not timed)."""
    from backflush.domain.events import Flow

    return [Flow(f"STOCK-{code}", "receipt", START, code, Decimal(qty),
                 master.items[code].standard_cost or Decimal(0))
            for code in sorted(master.items) if not master.items[code].made]


def subassembly_stock(master: MasterData, qty: int = 10**9) -> list[Any]:
    from backflush.domain.events import Flow

    return [Flow(f"STOCK-{code}", "completion", START, code, Decimal(qty))
            for code in sorted(master.items) if code.startswith("S")]


def event_rows(path: Path, pg: bool) -> list[tuple[Any, ...]]:
    """The rows the events table gets for a completions file (for the insert baseline)."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        r = csv.reader(fh)
        next(r)
        for ident, day, kind, item, qty in r:
            rows.append((ident, kind, date.fromisoformat(day) if pg else day, item,
                         Decimal(qty) if pg else qty, None, 1, 1))
    return rows


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ISSUE_PLAIN_INSERTS = 1_000_000  # rows/s: "plain inserts without a key" on the issue's machine


def machine_speed(rows: int = 500_000) -> dict[str, Any]:
    """How fast this machine is right now, measured on the spot (about a second).

    The issue's targets were set on a machine where "plain inserts without a key run at about
    1 million rows/s": this measures that here (a SQLite file, WAL, one transaction, an
    executemany of one-integer rows into a table without index), and the CPU time of a fixed
    Decimal loop (it swings up to 2x from minute to minute on a shared virtual machine).
    Printed with every figure, so that a figure can be read against the speed of the minute it
    was measured in.
    """
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(Path(tmp) / "plain.db", isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE plain (n INTEGER)")
            data = [(i,) for i in range(rows)]
            start = time.perf_counter()
            con.execute("BEGIN")
            con.executemany("INSERT INTO plain VALUES (?)", data)
            con.execute("COMMIT")
            seconds = time.perf_counter() - start
        finally:
            con.close()
    start_cpu = time.process_time()
    x, s = Decimal("1.0001"), Decimal(0)
    for i in range(400_000):
        s += x * i
    loop = time.process_time() - start_cpu
    rate = rows / seconds
    return {"plain_inserts_per_s": round(rate),
            "vs_issue_machine": round(rate / ISSUE_PLAIN_INSERTS, 2),
            "decimal_loop_s": round(loop, 3)}


def describe_machine(speed: dict[str, Any]) -> str:
    return (f"plain SQLite inserts without a key {speed['plain_inserts_per_s']:,} rows/s "
            f"(the issue's machine: about {ISSUE_PLAIN_INSERTS:,}); Decimal loop "
            f"{speed['decimal_loop_s']:.3f} s CPU")


def report(name: str, workload: dict[str, Any], figures: dict[str, Any], as_json: bool) -> None:
    """Print a benchmark's workload and figures, and the machine's speed measured now."""
    speed = machine_speed()
    if as_json:
        print(json.dumps({"benchmark": name, "workload": workload, "figures": figures,
                          "machine": speed}))
        return
    print(f"== {name}")
    print("workload: " + ", ".join(f"{k}={v}" for k, v in workload.items()))
    for k, v in figures.items():
        print(f"  {k}: {v}")
    print(f"  machine, right after: {describe_machine(speed)}")


def main(doc: str, run: Callable[..., Any], events: int, *, batches: bool = False) -> None:
    """The command line every workload benchmark shares: --db, --events, --json (and
    --batches, where the benchmark takes it)."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--events", type=int, default=events)
    ap.add_argument("--json", action="store_true")
    if batches:
        ap.add_argument("--batches", type=int, default=1,
                        help="post the events as this many files, one posting call each")
    args = ap.parse_args()
    if batches:
        if args.batches < 1 or args.batches > args.events:
            ap.error("--batches must be between 1 and --events")
        run(args.db, args.events, args.json, args.batches)
    else:
        run(args.db, args.events, args.json)
