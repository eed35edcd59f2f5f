"""The kanban quantity recomputed after one event, at plant scale.

Workload: 10,000 purchased parts, each kept at the line-side supermarket line-1 (kanban
master data, containers of 50) and backflushed from it; 1,000 made items with 20-line BOMs
over those parts (each part used by two items); 100,000 released orders (100 per made item)
in SQLite. Then, one at a time, a completion naming one of the orders is posted (a durable
transaction of its own) and the kanban lines it changed are recomputed in a read-only
transaction (``kanban.kanban_after``: the made item's 20 supermarkets). Figure: the
recompute's median and 95th percentile over 50 events, and the posting's median. Baseline,
same run: the whole board (all 10,000 supermarket items) computed at once. Target: the
recompute in 10 ms or less.

    python bench/bench_kanban.py                 # SQLite (about 2 minutes to build)
    python bench/bench_kanban.py --events 10000  # fewer released orders
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from common import START, arguments, report

from backflush.adapters.sql import SqlLedger
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import Completion, Receipt, Release
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Policy
from backflush.service_layer import kanban
from backflush.service_layer.batch import Located
from backflush.service_layer.posting import post_events, post_one
from backflush.service_layer.setup import set_up_ledger

PARTS, MADE, LINES, SAMPLES = 10_000, 1_000, 20, 50
LINE = "line-1"
TARGET_MS = 10.0


def master_data() -> MasterData:
    items = {f"P{i:05d}": Item(f"P{i:05d}", standard_cost=Decimal(1), backflush_from=LINE)
             for i in range(PARTS)}
    boms = []
    for m in range(MADE):
        code = f"M{m:04d}"
        items[code] = Item(code, conversion_cost=Decimal(2), made=True)
        parts = [(m * 10 + k * (PARTS // LINES)) % PARTS for k in range(LINES)]
        boms.append(BomVersion(code, 1, START, tuple(BomLine(f"P{p:05d}", Decimal(k % 3 + 1))
                                                       for k, p in enumerate(parts))))
    supermarkets = {(f"P{i:05d}", LINE): Supermarket(f"P{i:05d}", LINE, Decimal(50),
                                                     Decimal(1), Decimal("0.1"))
                    for i in range(PARTS)}
    return MasterData(items, Boms.of(boms), kanban=supermarkets)


def build(path: Path, orders: int) -> SqlLedger:
    ledger = SqlLedger.create(f"sqlite:///{path}")
    master = master_data()
    set_up_ledger(ledger.unit_of_work(), master, Policy(), START)
    post_events(ledger.unit_of_work(), [
        Receipt(id=f"PO-{i}", date=START, item=f"P{i:05d}", qty=Decimal(1_000_000),
                unit_price=Decimal(1), location=LINE) for i in range(PARTS)])
    post_events(ledger.unit_of_work(), [
        Release(id=f"MO-{n}", date=START + timedelta(days=1), item=f"M{n % MADE:04d}",
                qty=Decimal(10)) for n in range(orders)])
    return ledger


def main() -> None:
    ap = arguments(__doc__ or "", 100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        ledger = build(Path(folder) / "kanban.db", args.events)
        built = time.perf_counter() - started
        with ledger.unit_of_work(read_only=True) as uow:
            kanban.kanban(uow)  # (warm: who draws on each supermarket, worked out once)
        boards = []
        for _ in range(3):
            with ledger.unit_of_work(read_only=True) as uow:
                t0 = time.perf_counter()
                board = kanban.kanban(uow)
                boards.append(time.perf_counter() - t0)
        assert len(board) == PARTS
        posts, recomputes = [], []
        for k in range(SAMPLES):
            event = Completion(id=f"C-{k}", date=date(2026, 11, 3), item=f"M{k:04d}",
                               qty=Decimal(4), order=f"MO-{k}", location=LINE)
            t0 = time.perf_counter()
            post_one(ledger.unit_of_work(), lambda _uow, e=event: Located(e))
            posts.append(time.perf_counter() - t0)
            with ledger.unit_of_work(read_only=True) as uow:
                t0 = time.perf_counter()
                lines = kanban.kanban_after(uow, event)
                recomputes.append(time.perf_counter() - t0)
            assert len(lines) == LINES, len(lines)
        with ledger.unit_of_work(read_only=True) as uow:
            assert uow.floor.order("MO-0") == ("M0000", Decimal(6))
        ledger.close()
    ms = sorted(r * 1000 for r in recomputes)
    median = statistics.median(ms)
    whole = statistics.median(boards) * 1000
    report("kanban", {"supermarket_items": PARTS, "made_items": MADE, "bom_lines": LINES,
                      "released_orders": args.events, "db": "sqlite",
                      "build_s": round(built, 1)},
           {"recompute_after_one_event_ms_median": round(median, 2),
            "recompute_ms_p95": round(ms[int(len(ms) * 0.95) - 1], 2),
            "target_ms": TARGET_MS, "met": median <= TARGET_MS,
            "posting_the_completion_ms_median": round(statistics.median(posts) * 1000, 2),
            "baseline_whole_board_ms": round(whole, 1),
            "ratio_recompute_to_whole_board": round(median / whole, 4)}, args.json)


if __name__ == "__main__":
    main()
