"""How fast the event readers turn a plant's file into postable events.

Workload: N plain completions (``{"id": "E00000001", "date": "2026-11-01", "type":
"completion", "item": "F0001", "qty": 5}``) of 50 finished items over 30 days in date order,
quantities 1 to 20 (30,000 distinct shapes), as JSON Lines and as CSV. Each file is read by
:func:`backflush.adapters.files.stream_events` into Flows, and beside it by the plainest
reading there is (``json.loads`` of each line; ``csv.reader`` over the file), so a figure can
be read against what the machine does in the same minute; a fixed Decimal loop is timed
before and after (this machine's speed swings up to 2x). Rates are by CPU time (the process's
own; other tenants of a shared machine do not count) and by the wall clock.

    .venv/bin/python bench/bench_readers.py [--rows 1000000] [--repeat 3] [--json]

Each measure is taken ``--repeat`` times; the best is reported (the fast minute). The JSON
Lines reader decodes its chunks with msgspec; it is also run with the json module decoding
the same chunks (``json.loads("[" + ",".join(lines) + "]", parse_float=Decimal)``, the rest
alike), to say what share of the read time msgspec saves. ``--dates 1`` gives a lighter
workload (1,000 shapes).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from backflush.adapters.files import loaders, stream_events
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData
from backflush.service_layer.batch import Flows

ITEMS = 50
DAYS = 30


def master() -> MasterData:
    items = {f"F{i:04d}": Item(f"F{i:04d}", conversion_cost=Decimal("1.25"), made=True)
             for i in range(ITEMS)}
    items["P0001"] = Item("P0001", standard_cost=Decimal("0.50"))
    return MasterData(items)


def write_files(folder: Path, rows: int, days: int = DAYS, seed: int = 2
                ) -> tuple[Path, Path]:
    rng = random.Random(seed)
    jsonl, csv_path = folder / "events.jsonl", folder / "events.csv"
    with jsonl.open("w", encoding="utf-8") as fj, csv_path.open("w", encoding="utf-8",
                                                                newline="") as fc:
        writer = csv.writer(fc)
        writer.writerow(["id", "date", "type", "item", "qty"])
        for i in range(rows):
            day = f"2026-11-{1 + i * days // rows:02d}"
            item, qty = f"F{rng.randrange(ITEMS):04d}", rng.randint(1, 20)
            fj.write(json.dumps({"id": f"E{i:08d}", "date": day, "type": "completion",
                                 "item": item, "qty": qty}) + "\n")
            writer.writerow([f"E{i:08d}", day, "completion", item, qty])
    return jsonl, csv_path


def decimal_loop() -> float:
    """CPU seconds of a fixed Decimal loop (bench/common.py's machine_speed measure)."""
    start = time.process_time()
    x, s = Decimal("1.0001"), Decimal(0)
    for i in range(400_000):
        s += x * i
    return time.process_time() - start


def timed(work: Callable[[], int], repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeat):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        rows = work()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if not best or cpu < best["cpu_s"]:
            best = {"rows": rows, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                    "rows_per_s_cpu": round(rows / cpu), "rows_per_s_wall": round(rows / wall)}
    return best


def read_flows(path: Path, plant: MasterData) -> Callable[[], int]:
    def work() -> int:
        rows = 0
        for item in stream_events(path, plant):
            rows += len(item) if isinstance(item, Flows) else 1
        return rows
    return work


def json_loads_each_line(path: Path) -> Callable[[], int]:
    def work() -> int:
        rows = 0
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                json.loads(line)
                rows += 1
        return rows
    return work


def with_decoder(name: str, work: Callable[[], int]) -> Callable[[], int]:
    def run() -> int:
        saved, loaders.DECODER = loaders.DECODER, name
        try:
            return work()
        finally:
            loaders.DECODER = saved
    return run


def csv_reader(path: Path) -> Callable[[], int]:
    def work() -> int:
        with path.open(encoding="utf-8", newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1
    return work


def run(rows: int, repeat: int, days: int = DAYS) -> dict[str, Any]:
    plant = master()
    with tempfile.TemporaryDirectory() as tmp:
        jsonl, csv_path = write_files(Path(tmp), rows, days)
        before = decimal_loop()
        figures = {
            "jsonl stream_events": timed(read_flows(jsonl, plant), repeat),
            "jsonl baseline json.loads per line": timed(json_loads_each_line(jsonl), repeat),
            "jsonl stream_events, json module": timed(
                with_decoder("json", read_flows(jsonl, plant)), repeat),
            "csv stream_events": timed(read_flows(csv_path, plant), repeat),
            "csv baseline csv.reader": timed(csv_reader(csv_path), repeat),
        }
        after = decimal_loop()
    with_msgspec = figures["jsonl stream_events"]["cpu_s"]
    with_json = figures["jsonl stream_events, json module"]["cpu_s"]
    saving = (with_json - with_msgspec) / with_json
    return {"workload": {"rows": rows, "items": ITEMS, "days": days, "repeat": repeat,
                         "distinct shapes": ITEMS * days * 20},
            "figures": figures,
            "msgspec saves of the JSON Lines read time": f"{saving:.0%}",
            "machine": {"decimal_loop_s_before": round(before, 3),
                        "decimal_loop_s_after": round(after, 3)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dates", type=int, default=DAYS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.rows, args.repeat, args.dates)
    if args.json:
        print(json.dumps(result))
        return
    print("== bench_readers")
    print("workload: " + ", ".join(f"{k}={v:,}" for k, v in result["workload"].items()))
    for name, f in result["figures"].items():
        print(f"  {name:36s} {f['rows_per_s_cpu']:>10,} rows/s CPU ({f['cpu_s']:.2f} s), "
              f"{f['rows_per_s_wall']:>10,} rows/s wall ({f['wall_s']:.2f} s)")
    print(f"  msgspec saves {result['msgspec saves of the JSON Lines read time']} of the "
          "JSON Lines read time (against the json module decoding the same chunks)")
    m = result["machine"]
    print(f"  machine: Decimal loop {m['decimal_loop_s_before']:.3f} s CPU before, "
          f"{m['decimal_loop_s_after']:.3f} s after")


if __name__ == "__main__":
    main()
