"""The kanban board and the loop sizing as :class:`~.tables.Report` s (``backflush kanban``,
the demo's output)."""

from __future__ import annotations

from collections.abc import Sequence

from backflush.domain.kanban import KanbanLine
from backflush.domain.numbers import fmt_qty
from backflush.entrypoints.output.safety import Cell, Number
from backflush.entrypoints.output.tables import Column, Report
from backflush.service_layer.kanban import SizingReport


def board(lines: Sequence[KanbanLine]) -> Report:
    rows: list[list[Cell]] = [
        [ln.item, ln.location, Number(fmt_qty(ln.on_hand)), Number(fmt_qty(ln.demand)),
         Number(fmt_qty(ln.open_signals)), Number(fmt_qty(ln.replenish_qty)),
         Number(str(ln.containers))] for ln in lines]
    short = sum(1 for ln in lines if ln.containers)
    return Report("kanban", f"Kanban: {short} of {len(lines)} supermarket items to replenish "
                  "(demand − on hand − signaled, in whole containers)",
                  (Column("item"), Column("location"), Column("on hand", "qty"),
                   Column("demand", "qty"), Column("signaled", "qty"),
                   Column("to send", "qty"), Column("containers", "int")), rows)


def sizing(found: SizingReport) -> Report:
    rows: list[list[Cell]] = [
        [s.item, s.location, Number(fmt_qty(s.daily_demand)), Number(fmt_qty(s.lead_time_days)),
         Number(fmt_qty(s.safety)), Number(fmt_qty(s.container_qty)),
         Number(str(s.containers)), Number(fmt_qty(s.kanban_qty))] for s in found.lines]
    return Report("kanban-sizing", f"Kanban sizing, demand of {found.start} to {found.end}: cards "
                  "= per day × lead days × (1 + safety) ÷ container, rounded up",
                  (Column("item"), Column("location"), Column("per day", "qty"),
                   Column("lead days", "qty"), Column("safety", "qty"),
                   Column("container", "qty"), Column("cards", "int"),
                   Column("qty", "qty")), rows)
