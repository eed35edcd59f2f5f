"""verify reads the stored ledger whole: an event whose body is gone is found."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

import backflush as bf

STOOL = Path(__file__).resolve().parents[3] / "examples" / "stool.yaml"


def test_an_event_whose_body_is_gone_is_found(tmp_path: Path) -> None:
    ledger = bf.create_ledger(f"sqlite:///{tmp_path / 'stool.db'}")
    try:
        bf.run_scenario(ledger.unit_of_work(), bf.load_scenario(STOOL))
        with ledger.unit_of_work(read_only=True) as uow:
            assert bf.verify(uow) == []
        with ledger.engine.begin() as conn:
            conn.execute(text("DELETE FROM event_bodies WHERE n = "
                              "(SELECT body FROM events WHERE id = 'PO-2')"))
        with ledger.unit_of_work(read_only=True) as uow:
            problems = bf.verify(uow)
        assert any("1 of the 6 events numbered in the log cannot be read whole" in p
                   for p in problems), problems
    finally:
        ledger.close()
