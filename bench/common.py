"""Shared helpers of the benchmarks: the plant (finished items with 20-line, 2-level BOMs),
event files, fresh ledgers on SQLite or PostgreSQL, the same-run insert baseline, and the
machine's speed measured beside every figure."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, text
from sqlalchemy.engine import make_url

from backflush.adapters.sql import SqlLedger, make_engine
from backflush.adapters.sql.schema import event_bodies, events, metadata
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import Completion, Event, Receipt
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData
from backflush.domain.routing import Operation, WorkCenter

START = date(2026, 11, 1)
DAYS = 30
PG_SERVER = os.environ.get("BACKFLUSH_TEST_PG_URL",
                           "postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test")


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


def ample_stock(master: MasterData) -> list[Event]:
    """Receipts and subassembly completions giving ample stock of everything (not timed)."""
    events: list[Event] = [
        Receipt(id=f"STOCK-{code}", date=START, item=code, qty=Decimal(10**9),
                unit_price=master.items[code].standard_cost or Decimal(0))
        for code in sorted(master.items) if not master.items[code].made]
    events += [Completion(id=f"STOCK-{code}", date=START, item=code, qty=Decimal(10**7))
               for code in sorted(master.items) if code.startswith("S")]
    return events


def plant_events(master: MasterData, n: int, mix: str, seed: int = 2,
                 prefix: str = "E") -> Iterator[dict[str, Any]]:
    """n events in date order over the month: ``completions`` only, or a ``plant``'s mix
    (90 % completions, 5 % receipts of parts, 5 % sales of finished items, with prices)."""
    rng = random.Random(seed)
    finished = sorted(c for c in master.items if c.startswith("F"))
    parts = sorted(c for c in master.items if c.startswith("P"))
    for i in range(n):
        day = (START + timedelta(days=i * DAYS // max(n, 1))).isoformat()
        roll = rng.random() if mix == "plant" else 0.0
        event: dict[str, Any] = {"id": f"{prefix}{i:09d}", "date": day}
        if roll < 0.90:
            event.update(type="completion", item=rng.choice(finished), qty=rng.randint(1, 20))
        elif roll < 0.95:
            item = rng.choice(parts)
            price = master.items[item].standard_cost or Decimal(0)
            event.update(type="receipt", item=item, qty=rng.randint(100, 5000),
                         unit_price=f"{price + Decimal(rng.randint(-20, 20)) / 100:.2f}")
        else:
            event.update(type="sale", item=rng.choice(finished), qty=rng.randint(1, 5),
                         unit_price=f"{rng.randint(20_000, 90_000) / 100:.2f}")
        yield event


def write_events(path: Path, events: Iterator[dict[str, Any]]) -> Path:
    """The events as CSV (id, date, type, item, qty, unit_price) or JSON Lines, by suffix."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        if path.suffix == ".csv":
            w = csv.writer(fh)
            w.writerow(["id", "date", "type", "item", "qty", "unit_price"])
            for e in events:
                w.writerow([e["id"], e["date"], e["type"], e["item"], e["qty"],
                            e.get("unit_price", "")])
        else:
            for e in events:
                fh.write(json.dumps(e) + "\n")
    return path


def fresh_ledger(kind: str, folder: Path, name: str = "bench") -> SqlLedger:
    """A new ledger: a SQLite file in ``folder``, or a PostgreSQL database of its own."""
    if kind == "sqlite":
        return SqlLedger.create(f"sqlite:///{folder / (name + '.db')}")
    url = make_url(PG_SERVER)
    admin = make_engine(url.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS backflush_{name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE backflush_{name}"))
    admin.dispose()
    return SqlLedger.create(url.set(database=f"backflush_{name}").render_as_string(
        hide_password=False))


def rows_written(ledger: SqlLedger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every ledger table, as stored (for the insert baseline)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with ledger.engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            out[table.name] = [tuple(r) for r in conn.execute(text(
                f"SELECT {', '.join(c.name for c in table.columns)} FROM {table.name} "
                f"ORDER BY {order}"))]  # (in the order written: the new rows come last)
    return out


def insert_baseline(kind: str, folder: Path, rows: dict[str, list[tuple[Any, ...]]],
                    tables: list[str]) -> tuple[float, int]:
    """Seconds to insert ``rows`` of ``tables`` into an empty ledger schema of their own (same
    columns, keys and indexes), in one transaction, the database's fastest plain way:
    multi-row INSERTs on SQLite, COPY on PostgreSQL. And how many rows."""
    return _insert(kind, folder, metadata, rows, tables)


def _copy(column: Column[Any]) -> Column[Any]:
    return Column(column.name, column.type, nullable=column.nullable,
                  primary_key=column.primary_key, autoincrement=False)


# The events as plain rows, one per event with its unique key: the events table of 0.1 (the
# ledger's event and body columns in one row), the baseline the posting targets were set
# against ("plain inserts of the same event rows with a unique key").
_PLAIN = MetaData()
_ev, _body = events.c, event_bodies.c
_plain_events = Table(
    "plain_events", _PLAIN,
    *map(_copy, (_ev.seq, _ev.id, _body.type, _body.date, _body.item, _body.qty, _body.payload,
                 _body.cost_version, _body.entry_seq, _ev.reversed_by)),
)
Index("uq_plain_events_id", _plain_events.c.id, unique=True)
Index("ix_plain_events_reversed", _plain_events.c.type, _plain_events.c.date,
      sqlite_where=_plain_events.c.reversed_by.is_not(None),
      postgresql_where=_plain_events.c.reversed_by.is_not(None))


def plain_event_rows(rows: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """The posted events (``rows`` of events and event_bodies) as plain rows, one each."""
    bodies = {body[0]: body[1:] for body in rows["event_bodies"]}
    return [(seq, event_id, *bodies[body], reversed_by)
            for seq, event_id, body, reversed_by in rows["events"]]


def insert_plain_events(kind: str, folder: Path,
                        rows: list[tuple[Any, ...]]) -> tuple[float, int]:
    """Seconds to insert the events as plain rows with a unique key on the id (the way of
    :func:`insert_baseline`), and how many."""
    return _insert(kind, folder, _PLAIN, {"plain_events": rows}, ["plain_events"])


def _insert(kind: str, folder: Path, schema: MetaData, rows: dict[str, list[tuple[Any, ...]]],
            tables: list[str]) -> tuple[float, int]:
    base = fresh_ledger(kind, folder, "baseline")
    count = sum(len(rows[t]) for t in tables)
    try:
        if schema is not metadata:
            schema.create_all(base.engine)
        with base.engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            conn.commit()
            start = time.perf_counter()
            if kind == "sqlite":
                raw.execute("BEGIN")
                for table in (t for t in schema.sorted_tables if t.name in tables):
                    data = rows[table.name]
                    if not data:
                        continue
                    width = len(table.columns)
                    k = max(1, min(200, 30_000 // width))
                    one = "(" + ", ".join("?" * width) + ")"
                    full = len(data) - len(data) % k
                    cur = raw.cursor()
                    if full:
                        flat = [x for row in data[:full] for x in row]
                        cur.executemany(f"INSERT INTO {table.name} VALUES "
                                        + ", ".join([one] * k),
                                        [flat[i:i + width * k]
                                         for i in range(0, len(flat), width * k)])
                    if full < len(data):
                        cur.executemany(f"INSERT INTO {table.name} VALUES {one}", data[full:])
                raw.execute("COMMIT")
            else:
                with raw.cursor() as cur:
                    for table in (t for t in schema.sorted_tables if t.name in tables):
                        names = ", ".join(c.name for c in table.columns)
                        with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as cp:
                            for row in rows[table.name]:
                                cp.write_row(row)
                raw.commit()
            seconds = time.perf_counter() - start
    finally:
        base.close()
    return seconds, count


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ISSUE_PLAIN_INSERTS = 1_000_000  # rows/s: "plain inserts without a key" on the issue's machine


def machine_speed(rows: int = 500_000) -> dict[str, Any]:
    """How fast this machine is right now, measured on the spot (about a second): plain SQLite
    inserts of one-integer rows without a key (the issue's reference, about 1 million rows a
    second on its machine), and the CPU time of a fixed Decimal loop (this virtual machine's
    speed swings up to 3x from minute to minute)."""
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
    return {"plain_inserts_per_s": round(rows / seconds), "decimal_loop_s": round(loop, 3)}


def describe_machine(speed: dict[str, Any]) -> str:
    return (f"plain SQLite inserts without a key {speed['plain_inserts_per_s']:,} rows/s "
            f"(the issue's machine: about {ISSUE_PLAIN_INSERTS:,}); Decimal loop "
            f"{speed['decimal_loop_s']:.3f} s CPU (0.044 s in this machine's fast minutes)")


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


def arguments(doc: str, events: int) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--events", type=int, default=events)
    ap.add_argument("--json", action="store_true")
    return ap
