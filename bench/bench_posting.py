"""Batch posting of completions, from an event file to a committed ledger.

Workload: N completions (CSV: id, date, type, item, qty) of finished items whose BOM has 20
lines over 2 levels (15 parts and 5 subassemblies of 4 parts each), journal: summary. The
ledger already holds the plant and ample stock (not timed).

Figure: completions per second from opening the file to the commit.
Baseline, measured in the same run on the same database: inserting just the same event rows
(same columns, same unique key on the event id) into a copy of the events table: the fastest
of a plain executemany and multi-row INSERTs on SQLite, COPY on PostgreSQL.

    python bench/bench_posting.py                      # SQLite, 200,000 completions
    python bench/bench_posting.py --db postgresql      # PostgreSQL (BACKFLUSH_TEST_PG_URL)
    python bench/bench_posting.py --events 2000000 --json
    python bench/bench_posting.py --events 1000000 --batches 10   # ten files, one call each

With ``--batches K`` the completions come in K files (ids B0-..., B1-...; batch k covers the
k-th K-th of the month's days), each posted in its own call and transaction, one after the
other, as a plant posting batch after batch would:
the figure is then the total over the K calls, with the first call's rate and the later
ones' beside it (a later call finds the shapes the first worked out, kept with the books).
The baseline still inserts every row in one transaction.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from common import (
    DAYS,
    START,
    completions_csv,
    event_rows,
    main,
    plant,
    report,
    stock_receipts,
    subassembly_stock,
    timed,
)
from sqlalchemy import Column, Engine, Index, MetaData, Table, UniqueConstraint

from backflush.adapters import tabular
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.db import make_engine, migrate
from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.domain.costing import MasterData
from backflush.domain.policy import Journal, Policy
from backflush.service_layer import services

PG_URL = os.environ.get("BACKFLUSH_TEST_PG_URL",
                        "postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test")
COLUMNS = ["id", "type", "date", "item", "qty", "payload", "cost_version", "entry_seq"]


def fresh_engine(kind: str, folder: Path) -> Engine:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    else:  # a database of its own, made afresh (the role may create databases)
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql("DROP DATABASE IF EXISTS backflush_bench WITH (FORCE)")
            c.exec_driver_sql("CREATE DATABASE backflush_bench")
        admin.dispose()
        engine = make_engine(PG_URL.rsplit("/", 1)[0] + "/backflush_bench")
    migrate(engine)
    return engine


def baseline_table(engine: Engine) -> Table:
    """An empty copy of the events table: same columns, same unique key, same index."""
    md = MetaData()
    table = Table("events_baseline", md, *(Column(c.name, c.type, nullable=c.nullable,
                                                  primary_key=c.primary_key)
                                           for c in t.events.columns),
                  UniqueConstraint("id", name="uq_events_baseline_id"))
    Index("ix_events_baseline_reversed", table.c.reversed_by,
          sqlite_where=table.c.reversed_by.isnot(None),
          postgresql_where=table.c.reversed_by.isnot(None))
    md.drop_all(engine)
    md.create_all(engine)
    return table


def insert_baseline(engine: Engine, rows: list[tuple[object, ...]], method: str) -> None:
    table = baseline_table(engine)
    cols = ", ".join(COLUMNS)
    with engine.connect() as conn:
        conn.begin()
        raw = conn.connection.driver_connection
        assert raw is not None
        if method == "copy":
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        elif method == "executemany":
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {table.name} ({cols}) VALUES "
                            f"({', '.join('?' * len(COLUMNS))})", rows)
        else:  # multi-row VALUES, 100 rows a statement
            k = 100
            one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
            full = len(rows) - len(rows) % k
            flat = [x for row in rows[:full] for x in row]
            width = len(COLUMNS) * k
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {table.name} ({cols}) VALUES "
                            + ", ".join([one] * k),
                            [flat[i:i + width] for i in range(0, len(flat), width)])
            if full < len(rows):
                cur.executemany(f"INSERT INTO {table.name} ({cols}) VALUES {one}", rows[full:])
        conn.commit()


def set_up(engine: Engine, master: MasterData) -> None:
    services.set_up_ledger(SqlUnitOfWork(engine), master, Policy(journal=Journal.SUMMARY),
                           START)
    services.post_events(SqlUnitOfWork(engine), stock_receipts(master)
                         + subassembly_stock(master))


def run(kind: str, n: int, as_json: bool, batches: int = 1) -> dict[str, float]:
    master = plant()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = [n // batches + (k < n % batches) for k in range(batches)]  # each >= 1
        # Batch k covers its share of the month's days (a shift's or a day's completions).
        paths = [completions_csv(folder / f"completions-{k}.csv", master,
                                 sizes[k], seed=2 + k, prefix=f"B{k}-",
                                 first_day=k * DAYS // batches,
                                 days=max((k + 1) * DAYS // batches - k * DAYS // batches, 1))
                 for k in range(batches)] if batches > 1 else \
            [completions_csv(folder / "completions.csv", master, n)]
        engine = fresh_engine(kind, folder)
        set_up(engine, master)
        each = []
        for path in paths:  # a posting call (one transaction) per file
            t, result = timed(lambda path=path: services.post_events(
                SqlUnitOfWork(engine), tabular.stream_events(path, master)))
            assert result.posted == result.summarised > 0, result
            each.append((t, result.posted))
        seconds = sum(t for t, _ in each)
        rows = [row for path in paths for row in event_rows(path, pg=kind == "postgresql")]
        methods = ["copy"] if kind == "postgresql" else ["executemany", "multirow"]
        base = {m: timed(lambda m=m: insert_baseline(engine, rows, m))[0] for m in methods}
        best = min(base, key=lambda m: base[m])
        with engine.begin() as c:
            c.exec_driver_sql("DROP TABLE events_baseline")
        engine.dispose()
    rate, base_rate = n / seconds, n / base[best]
    figures = {
        "completions_per_s": round(rate),
        "seconds": round(seconds, 2),
        "baseline": f"insert the same {n} event rows with the same unique key ({best})",
        "baseline_rows_per_s": round(base_rate),
        "baseline_seconds": {m: round(s, 2) for m, s in base.items()},
        "ratio_to_baseline": round(rate / base_rate, 3),
    }
    if batches > 1:
        figures["first_batch_per_s"] = round(each[0][1] / each[0][0])
        figures["later_batches_per_s"] = [round(m / t) for t, m in each[1:]]
    report(f"batch posting, {kind}", {"completions": n, "bom": "20 lines, 2 levels",
                                      "components_relieved_per_unit": 35,
                                      "journal": "summary", "posting_calls": batches},
           figures, as_json)
    return {"rate": rate, "baseline": base_rate}


if __name__ == "__main__":
    main(__doc__ or "", run, 200_000, batches=True)
