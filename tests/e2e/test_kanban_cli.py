"""`backflush kanban` on a kept ledger, SQLite and PostgreSQL (issue 16, item 1): the board,
kanban master data imported from CSV, sending the cards, and the loop sizing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.support import bf, ok, write
from tests.unit.test_kanban import PLANT

MORE = """\
type,id,date,item,qty,from,to,order,location
release,WO-7,2026-11-03,STOOL,40,,,,
transfer,TR-1,2026-11-03,LEG,25,stores,line-1,,
completion,C1,2026-11-04,STOOL,5,,,WO-7,
"""


def test_the_board_signals_and_sizing(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT)
    ok("init", "--db", db_url, "--from", str(path))
    ok("post", str(path), "--db", db_url)
    # Containers of 20 for the legs from now on; the casters' supermarket stays.
    table = write(tmp_path / "kanban.csv", "item,location,container_qty,lead_time_days,"
                  "safety\nLEG,line-1,20,1,0.5\n")
    ok("import", "kanban", str(table), "--db", db_url)
    ok("post", str(write(tmp_path / "more.csv", MORE)), "--db", db_url)
    board = json.loads(ok("kanban", "--format", "json", "--db", db_url).stdout)
    # 35 stools open: 105 legs; 25 moved in, 15 backflushed: 10 on hand; 95 short: 5 x 20.
    assert board[0] == {"item": "LEG", "location": "line-1", "on hand": "10",
                        "demand": "105", "signaled": "0", "to send": "100",
                        "containers": "5"}
    assert "1 of 2 supermarket items to replenish" in ok("kanban", "--db", db_url).stdout
    sent = ok("kanban", "signal", "--db", db_url).stdout
    assert "Sent KB-2026-11-04-LEG@line-1: 100 LEG to line-1" in sent
    assert "no signal sent" in ok("kanban", "signal", "--db", db_url).stdout
    after = json.loads(ok("kanban", "--format", "json", "--db", db_url).stdout)
    assert (after[0]["signaled"], after[0]["to send"]) == ("100", "0")
    sizing = json.loads(ok("kanban", "sizing", "--format", "json", "--period", "2026-11",
                           "--db", db_url).stdout)
    # 15 legs backflushed over November's 30 days: 0.5 a day x 1 day x 1.5 = 0.75: 1 card.
    assert sizing[0] == {"item": "LEG", "location": "line-1", "per day": "0.5",
                         "lead days": "1", "safety": "0.5", "container": "20",
                         "cards": "1", "qty": "20"}
    ok("verify", "--db", db_url)


def test_bad_kanban_input_changes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "plant.yaml", PLANT)
    ok("init", "--db", sqlite_url, "--from", str(path))
    before = ok("kanban", "--format", "json", "--db", sqlite_url).stdout
    for rows, message in (("LEG,line-1,0", "kanban.csv:2, kanban LEG, field 'container_qty'"
                           ": must be positive"),
                          ("NOPE,line-1,5", "unknown item 'NOPE'"),
                          ("LEG,line-1,5\nLEG,line-1,6",
                           "field 'location': appears twice (first on line 2)")):
        bad = write(tmp_path / "kanban.csv", f"item,location,container_qty\n{rows}\n")
        refused = bf("import", "kanban", str(bad), "--db", sqlite_url)
        assert refused.code == 2 and message in refused.flat, refused.flat
    signal = write(tmp_path / "signal.csv", "type,id,date,item,location,qty\n"
                   "signal,S-1,2026-11-03,SEAT,stores,5\n")
    refused = bf("post", str(signal), "--db", sqlite_url)
    assert refused.code == 1 and "SEAT has no supermarket at stores" in refused.flat
    assert ok("kanban", "--format", "json", "--db", sqlite_url).stdout == before
    assert bf("kanban", "sizing", "--from", "2026-11-09", "--to", "2026-11-01",
              "--db", sqlite_url).code == 2
    assert bf("kanban", "--period", "2026-11", "--db", sqlite_url).code == 2
