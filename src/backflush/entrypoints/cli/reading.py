"""``report``, ``explain`` and ``verify``: the commands that only read a kept ledger.

Each reads in one read-only transaction (a consistent snapshot while others post) and
writes nothing to the ledger. ``report --output`` checks its destination before the ledger
is even opened, and writes the file whole or not at all.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from backflush.entrypoints.cli import common
from backflush.entrypoints.cli.common import DbOption, OptionError
from backflush.entrypoints.output.safety import shown


class ReportName(StrEnum):
    TRIAL_BALANCE = "trial-balance"
    STOCK = "stock"
    VARIANCES = "variances"
    JOURNAL = "journal"


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


def report(
    name: Annotated[ReportName, typer.Argument(metavar="NAME", help="Which report.")],
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="How to print or write it.")]
        = Format.TABLE,
    out: Annotated[Path | None, typer.Option(
        "--output", metavar="FILE", help="Write to this file (needed for xlsx) instead of "
        "printing.")] = None,
) -> None:
    """Print (or write) a report of the ledger.

    \b
    Example:
      backflush report trial-balance --format xlsx --output tb.xlsx
    """
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output import reports as render

    if fmt is Format.XLSX and out is None:
        raise OptionError("--format", "an xlsx report needs --output FILE.xlsx")
    if fmt is Format.TABLE and out is not None:
        raise OptionError("--output", "a table is printed; write a file with --format csv, "
                          "json or xlsx")
    if out is not None:
        common.output_option(out)
    with common.opened(db) as ledger:
        header, rows = common.read(ledger, lambda uow: render.report_rows(uow, name.value))
    if fmt is Format.TABLE:
        render.print_table(console_.stdout(), name.value, header, rows)
        return
    if fmt is Format.XLSX:
        assert out is not None
        render.write_xlsx(out, name.value, header, rows)
    else:
        text = render.csv_text(header, rows) if fmt is Format.CSV else \
            render.json_text(header, rows)
        if out is None:
            typer.echo(text, nl=False)
            return
        render.write_text(out, text)
    console_.stdout().print(f"Wrote {len(rows)} rows to {shown(out)}")


def explain(
    key: Annotated[str, typer.Argument(metavar="KEY", help="An event id, or a journal entry "
                                       "number (#42).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The audit trail of an event or entry: BOM and cost versions, quantities, lines.

    \b
    Example:
      backflush explain WO-1 --db sqlite:///plant.db
    """
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output.explain import print_explanation
    from backflush.service_layer import reports

    with common.opened(db) as ledger, ledger.unit_of_work(read_only=True) as uow:
        found = reports.explain(uow, key)
        if found is None:
            raise OptionError("KEY", f"no event or journal entry "
                              f"{shown(repr(key), markup=False)} in {ledger.url}")
        print_explanation(console_.stdout(), found, uow.master.policy().minor_unit,
                          as_json=as_json)


def verify(db: DbOption = None) -> None:
    """Check every invariant of the posting rules against the stored ledger.

    \b
    Example:
      backflush verify --db sqlite:///plant.db
    """
    from backflush.entrypoints.output import console as console_
    from backflush.service_layer import reports

    with common.opened(db) as ledger:
        problems = common.read(ledger, reports.verify)
    if problems:
        console_.print_problems(console_.stderr(), "The ledger is NOT sound:", problems)
        raise typer.Exit(common.REFUSED)
    console_.stdout().print("Ledger verified: every entry balances, inventory accounts equal "
                            "the stock subledger at standard, quantities are conserved, every "
                            "line has its event.")
