"""``alerts``: list the alerts events raised, and ``alerts ack``: acknowledge them.

Listing reads one read-only transaction; acknowledging writes the acknowledgement only
(who, when, why), in one transaction, all of the numbers given or none.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from backflush.entrypoints.cli import common
from backflush.entrypoints.cli.common import DbOption
from backflush.entrypoints.output.safety import Cell, Number, shown

if TYPE_CHECKING:
    from backflush.service_layer.ports import StoredAlert


class AlertFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


alerts_app = typer.Typer(
    help="List the alerts events raised (open ones: not yet acknowledged), and acknowledge "
    "them.", invoke_without_command=True, epilog=common.EXIT_CODES,
    context_settings={"help_option_names": ["-h", "--help"]})


def as_json(alert: StoredAlert) -> dict[str, object]:
    return {"id": alert.id, "date": alert.date.isoformat() if alert.date else None,
            "event": alert.event_id, "code": alert.code, "message": alert.message,
            "acknowledged_by": alert.acknowledged_by,
            "acknowledged_on": alert.acknowledged_on, "note": alert.note}


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    db: DbOption = None,
    include_all: Annotated[bool, typer.Option(
        "--all", help="Acknowledged alerts too, with who acknowledged them, when and why.")]
        = False,
    event: Annotated[str | None, typer.Option(
        "--event", metavar="ID", help="Only the alerts this event raised.")] = None,
    fmt: Annotated[AlertFormat, typer.Option("--format", help="How to print them.")]
        = AlertFormat.TABLE,
) -> None:
    """List the open alerts: number, date, the event that raised each, its code and
    message (the figure and the threshold of the rule).

    \b
    Examples:
      backflush alerts --db sqlite:///plant.db
      backflush alerts --all --format json
      backflush alerts ack 3 4 --by "J. Smith" --note "supplier credit note asked for"
    """
    ctx.obj = db
    if ctx.invoked_subcommand is not None:
        return
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output.tables import Column, Report, print_report
    from backflush.service_layer.alerts import list_alerts

    with common.opened(db) as book:
        found = list_alerts(book.unit_of_work(read_only=True),
                            include_acknowledged=include_all, event_id=event)
    if fmt is AlertFormat.JSON:
        typer.echo(json.dumps([as_json(a) for a in found], indent=2, ensure_ascii=True))
        return
    if not found:
        typer.echo("No alerts." if include_all else "No open alerts.")
        return
    columns = [Column("id", "int"), Column("date", "date"), Column("event"), Column("code"),
               Column("message")]
    if include_all:
        columns += [Column("acknowledged by"), Column("on"), Column("note")]
    rows: list[list[Cell]] = []
    for a in found:
        row: list[Cell] = [Number(str(a.id)), a.date, a.event_id, a.code, a.message]
        if include_all:
            row += [a.acknowledged_by, a.acknowledged_on, a.note]
        rows.append(row)
    title = ("Alerts" if include_all else "Open alerts") + f" ({len(found)})"
    print_report(console_.stdout(), Report("alerts", title, tuple(columns), rows))


def default_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's anonymous user)
        return ""


@alerts_app.command("ack", epilog=common.EXIT_CODES)
def ack(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="The alerts' numbers "
                                             "(backflush alerts lists them).")],
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="Who acknowledges (default: your login name).")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", metavar="TEXT", help="Why, or what was done about it.")] = None,
    db: DbOption = None,
) -> None:
    """Acknowledge alerts: they leave the open list, and who, when (UTC) and why stay on
    the record. Acknowledging an alert again changes nothing; an unknown number is
    refused (exit 2) and then none is acknowledged.

    \b
    Example:
      backflush alerts ack 3 4 --by "J. Smith" --note "price agreed with the supplier"
    """
    from backflush.service_layer.alerts import acknowledge_alerts

    with common.opened(db or ctx.obj) as book:
        done = common.write(lambda: acknowledge_alerts(
            book.unit_of_work(), ids, by if by is not None else default_name(), note))
    fresh = [a for a in done.alerts if a.id not in done.already]
    out = []
    if fresh:
        out.append(f"Acknowledged {_numbers(fresh)} as {_who(fresh[0])}.")
    out.extend(f"Alert {a.id} was acknowledged before, as {_who(a)}; left as it was."
               for a in done.alerts if a.id in done.already)
    typer.echo("\n".join(out))


def _who(alert: StoredAlert) -> str:
    return f"{shown(alert.acknowledged_by or '', markup=False)} on {alert.acknowledged_on}"


def _numbers(found: list[StoredAlert]) -> str:
    ids = [str(a.id) for a in found]
    return f"alert {ids[0]}" if len(ids) == 1 else f"alerts {', '.join(ids)}"
