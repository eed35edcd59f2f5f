"""`backflush queue` on a kept ledger, SQLite and PostgreSQL (issue 16, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.support import bf, ok, write
from tests.unit.test_shop_floor import PLANT


def test_the_queue_lists_what_is_parked_and_empties_when_stock_arrives(
        db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT.format(more=""))
    ok("init", "--db", db_url, "--from", str(path))
    ok("post", str(path), "--db", db_url)
    listed = json.loads(ok("queue", "--format", "json", "--db", db_url).stdout)
    assert listed == [{"event": "WO-1", "item": "LEG", "location": "line-1", "qty": "5",
                       "since": "2026-11-05", "age (days)": "0", "reason": "short stock",
                       "close": "blocks"}]
    shown = ok("queue", "--db", db_url).stdout
    assert "Pending issues (1)" in shown and "blocks" in shown
    refused = bf("close", "2026-11", "--db", db_url)
    assert refused.code == 1 and "issues pending" in refused.flat
    more = write(tmp_path / "more.csv", "type,id,date,item,qty,from,to,unit_price\n"
                 "transfer,TR-2,2026-11-09,LEG,5,stores,line-1,\n"
                 "receipt,PO-3,2026-11-09,GLUE,5,,,0.10\n")
    ok("post", str(more), "--db", db_url)
    assert json.loads(ok("queue", "--format", "json", "--db", db_url).stdout) == []
    assert "Pending issues (0)" in ok("queue", "--db", db_url).stdout
    assert bf("report", "queue", "--period", "2026-11", "--db", db_url).code == 2
    ok("close", "2026-11", "--db", db_url)
    ok("verify", "--db", db_url)


HELD = """\
format: 1
policy: {failed_backflush: hold}
items:
  - {code: SEAT, standard_cost: 5.00, negative_stock: reject}
  - {code: STOOL, conversion_cost: 6.00}
boms:
  STOOL: [{item: SEAT, qty: 1}]
events:
  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 5, unit_price: 5.00, id: PO-1}
  - {type: completion, date: 2026-11-05, item: STOOL, qty: 8, id: WO-1}
  - {type: completion, date: 2026-11-05, item: STOOL, qty: 2, id: WO-2}
"""


def test_held_completions_are_listed_and_retried(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "held.yaml", HELD)
    ok("init", "--db", db_url, "--from", str(path))
    posted = ok("post", str(path), "--db", db_url)
    assert "Posted 2 events" in posted.stdout  # the receipt and WO-2; WO-1 held
    assert "Held 1 completions that cannot post yet (WO-1)" in posted.stdout
    listed = json.loads(ok("queue", "--format", "json", "--db", db_url).stdout)
    assert [(r["event"], r["reason"], r["close"]) for r in listed] == [
        ("WO-1", "short stock", "blocks")]
    assert "completions held unposted (1)" in ok("queue", "--db", db_url).stdout
    assert bf("close", "2026-11", "--db", db_url).code == 1  # held production blocks it
    more = write(tmp_path / "more.csv", "type,id,date,item,qty,unit_price\n"
                 "receipt,PO-2,2026-11-09,SEAT,10,5.00\n")
    ok("post", str(more), "--db", db_url)
    retried = ok("queue", "--retry", "--format", "json", "--db", db_url)
    assert "1 posted (WO-1), 0 still held" in retried.stderr
    assert json.loads(retried.stdout) == []
    ok("close", "2026-11", "--db", db_url)
    ok("verify", "--db", db_url)
