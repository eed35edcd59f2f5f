"""``backflush kanban``: the supermarkets' board, the loop sizing, and sending signals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backflush.entrypoints.cli import common
from backflush.entrypoints.cli.common import DbOption
from backflush.entrypoints.cli.reading import (
    Format,
    FromOption,
    PeriodOption,
    ReportName,
    ToOption,
    report,
)
from backflush.entrypoints.output.safety import shown

kanban_app = typer.Typer(
    help="The kanban board: each supermarket item's on hand, the demand of the released "
    "orders, open signals and what to replenish; its sizing; sending signals.",
    context_settings={"help_option_names": ["-h", "--help"]})

FormatOption = Annotated[Format, typer.Option("--format", help="How to print or write it.")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", metavar="FILE", help="Write to this file instead of printing.")]


@kanban_app.callback(invoke_without_command=True, epilog=common.EXIT_CODES)
def board(ctx: typer.Context, db: DbOption = None, fmt: FormatOption = Format.TABLE,
          out: OutputOption = None) -> None:
    """The kanban board, computed now: demand of the released, not yet completed orders −
    on hand at the supermarket − open signals, rounded up to whole containers.

    \b
    Examples:
      backflush kanban --db sqlite:///plant.db
      backflush kanban signal --db sqlite:///plant.db
      backflush kanban sizing --period 2026-11
    """
    if ctx.invoked_subcommand is None:
        report(ReportName.KANBAN, db, fmt, out)


@kanban_app.command("sizing", epilog=common.EXIT_CODES)
def sizing(db: DbOption = None, fmt: FormatOption = Format.TABLE, out: OutputOption = None,
           period: PeriodOption = None, start: FromOption = None, end: ToOption = None
           ) -> None:
    """The classic loop size of each supermarket item: daily demand (what completions
    backflushed of it over the window, default the 28 days to the latest event) × lead time
    × (1 + safety) ÷ container, rounded up to whole cards."""
    report(ReportName.KANBAN_SIZING, db, fmt, out, period, start, end)


@kanban_app.command("signal", epilog=common.EXIT_CODES)
def signal(db: DbOption = None, day: Annotated[str | None, typer.Option(
        "--date", metavar="YYYY-MM-DD", help="The signals' date (default: the latest "
        "event's).")] = None) -> None:
    """Send the kanban cards: post a signal event for each supermarket item short of its
    demand, for its replenishment quantity (all or nothing). Transfers into the supermarket
    close them, oldest first."""
    from backflush.service_layer.replenishing import send_signals

    when = common.day_option(day, "--date") if day is not None else None
    with common.opened(db) as ledger:
        sent = common.write(lambda: send_signals(ledger.unit_of_work(), when))
    if not sent:
        typer.echo("Every supermarket is covered: no signal sent.")
        return
    for s in sent:
        typer.echo(f"Sent {s.id}: {s.qty} {shown(s.item, markup=False)} to "
                   f"{shown(s.location, markup=False)}")
    typer.echo(f"Sent {len(sent)} signals.")
