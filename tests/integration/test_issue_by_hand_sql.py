"""BOM lines issued by hand on a real SQLite ledger (issue 16, item 3): the ``flush`` column
of ``bom_lines`` round-trips, a BOM table's ``flush`` column imports, and the books of the
chair scenario are the memory ledger's, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from backflush.adapters.files import scenario_from_text
from backflush.adapters.files.masterdata import read_boms
from backflush.adapters.sql import SqlLedger
from backflush.bootstrap import memory_ledger
from backflush.domain.errors import ValidationError
from backflush.service_layer.imports import import_master
from backflush.service_layer.scenario import run_scenario
from tests.support import Reader
from tests.unit.test_issue_by_hand import SCENARIO


def books(reader: Reader) -> tuple[dict[str, D], dict[tuple[str, str], D]]:
    return ({k: v for k, v in reader.balances().items() if v},
            {k: v for k, v in reader.stock().items() if v})


def test_the_chair_scenario_posts_the_same_books_on_sqlite_as_in_memory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chair.db'}"
    ledger = SqlLedger.create(url)
    try:
        outcome = run_scenario(ledger.unit_of_work(), scenario_from_text(SCENARIO))
        assert outcome.ok, outcome.errors
    finally:
        ledger.close()
    memory = memory_ledger()
    run_scenario(memory.unit_of_work(), scenario_from_text(SCENARIO))
    reopened = SqlLedger.open(url)  # a new process's view: read back from the file
    try:
        reader = Reader(reopened.unit_of_work)
        assert books(reader) == books(Reader(memory.unit_of_work))
        balances, stock = books(reader)
        # 12 chairs at 131.00; 10 motors issued, 12 needed: 2 x 120.00 favourable usage.
        assert balances["Finished Goods Inventory"] == D("1572.00")
        assert balances["Material Usage Variance"] == D("-240.00")
        assert stock[("MOTOR", "stores")] == 10 and ("MOTOR", "in-process/CHAIR") not in stock
        with reopened.unit_of_work(read_only=True) as uow:
            lines = uow.master.master().boms.on("CHAIR", date(2026, 11, 4)).lines
        assert [(ln.component, ln.flush) for ln in lines] == [("SEAT", "backflush"),
                                                             ("MOTOR", "manual")]
        assert reader.verify() == []
    finally:
        reopened.close()


def test_a_bom_table_with_a_flush_column_imports_into_sqlite(tmp_path: Path,
                                                             sqlite_ledger: SqlLedger) -> None:
    run_scenario(sqlite_ledger.unit_of_work(), scenario_from_text(SCENARIO.split("events:")[0]
                                                                  + "events: []\n"))
    table = tmp_path / "boms.csv"
    table.write_text("parent,version,effective,component,qty,scrap,flush\n"
                     "CHAIR,2,2026-12-01,SEAT,1,,\n"
                     "CHAIR,2,2026-12-01,MOTOR,1,,backflush\n", encoding="utf-8")
    import_master(sqlite_ledger.unit_of_work(), "boms", date(2026, 11, 1),
                  boms=read_boms(table))
    with sqlite_ledger.unit_of_work(read_only=True) as uow:
        boms = uow.master.master().boms
    assert [ln.flush for ln in boms.on("CHAIR", date(2026, 12, 2)).lines] == ["backflush"] * 2
    assert [ln.flush for ln in boms.on("CHAIR", date(2026, 11, 2)).lines] == ["backflush",
                                                                              "manual"]


def test_a_bad_flush_in_a_bom_table_is_refused_naming_the_line(tmp_path: Path) -> None:
    table = tmp_path / "boms.csv"
    table.write_text("parent,component,qty,flush\nCHAIR,SEAT,1,by hand\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"boms.csv:2.*field 'flush'.*'by hand' is not "
                       "one of backflush, manual"):
        read_boms(table)
