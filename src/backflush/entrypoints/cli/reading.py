"""``report``, ``explain`` and ``verify``: the commands that only read a kept ledger.

Each reads in one read-only transaction (a consistent snapshot while others post) and
writes nothing to the ledger. ``report --output`` checks its destination before the ledger
is even opened, and writes the file whole or not at all.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backflush.entrypoints.cli import accuracy as acc
from backflush.entrypoints.cli import common
from backflush.entrypoints.cli import suitability as suit
from backflush.entrypoints.cli.common import DbOption, OptionError
from backflush.entrypoints.output.safety import shown

if TYPE_CHECKING:
    from backflush.service_layer.reports import Window
    from backflush.service_layer.unit_of_work import UnitOfWork


class ReportName(StrEnum):
    TRIAL_BALANCE = "trial-balance"
    STOCK = "stock"
    VARIANCES = "variances"
    JOURNAL = "journal"
    INCOME = "income"
    GAAP = "gaap"
    ANALYSIS = "analysis"
    COST_SHEET = "cost-sheet"
    QUEUE = "queue"
    KPIS = "kpis"
    BOM_ACCURACY = "bom-accuracy"
    SUITABILITY = "suitability"
    KANBAN = "kanban"
    KANBAN_SIZING = "kanban-sizing"


class By(StrEnum):
    ITEM = "item"
    SUPPLIER = "supplier"
    WORK_CENTER = "work-center"
    EVENT = "event"


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


PeriodOption = Annotated[str | None, typer.Option(
    "--period", metavar="YYYY-MM", help="Only this month: the journal and variances within "
    "it, the trial balance at its end.")]
FromOption = Annotated[str | None, typer.Option(
    "--from", metavar="YYYY-MM-DD", help="First day of the range (journal, variances).")]
ToOption = Annotated[str | None, typer.Option(
    "--to", metavar="YYYY-MM-DD", help="Last day of the range (journal, variances; the trial "
    "balance is at its end).")]


def window_of(period: str | None, start: str | None, end: str | None,
              name: ReportName) -> Window:
    """The days a report covers, from ``--period`` or ``--from``/``--to`` (exit 2 when
    malformed, mixed, backwards, or asked of the stock report, which is on hand now)."""
    from backflush.domain.errors import NumberError
    from backflush.domain.events import period_bounds
    from backflush.service_layer.reports import Window

    if period is not None and (start is not None or end is not None):
        raise OptionError("--period", "give a month with --period or a range with --from and "
                          "--to, not both")
    if period is not None:
        try:
            first, last = period_bounds(period.strip())
        except NumberError:
            raise OptionError("--period", f"expected a month such as 2026-11, got "
                              f"{shown(repr(period), markup=False)}") from None
        window = Window(first, last)
    else:
        window = Window(common.day_option(start, "--from") if start is not None else None,
                        common.day_option(end, "--to") if end is not None else None)
    if window.start and window.end and window.start > window.end:
        raise OptionError("--from", f"{window.start} is after --to {window.end}")
    if name in (ReportName.COST_SHEET, ReportName.QUEUE, ReportName.KANBAN) \
            and not window.whole:
        raise OptionError("--period" if period else "--from" if start else "--to",
                          f"the {name.value} report shows what stands now")
    if name is ReportName.STOCK and not window.whole:
        raise OptionError("--period" if period else "--from" if start else "--to",
                          "the stock report shows what is on hand now; a month or a range "
                          "applies to trial-balance, journal and variances")
    if name is ReportName.TRIAL_BALANCE and window.start is not None and period is None:
        raise OptionError("--from", "a trial balance is at a date: give --to (or --period)")
    return window


def report(
    name: Annotated[ReportName, typer.Argument(
        metavar="NAME", help="Which report: trial-balance|stock|variances|journal; of a "
        "month (--period, else the latest closed): income|gaap|analysis; now: cost-sheet "
        "(the standards in force)|queue (the pending issues)|kanban; any range: kpis|"
        "kanban-sizing|suitability|bom-accuracy (BOM lines by least squares over the counts).")],
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="How to print or write it.")]
        = Format.TABLE,
    out: Annotated[Path | None, typer.Option(
        "--output", metavar="FILE", help="Write to this file (needed for xlsx) instead of "
        "printing.")] = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[By | None, typer.Option(
        "--by", help="variances only: by the item, the supplier (receipts) or the work "
        "centers (reported hours) of the events behind them, or event by event.")] = None,
    min_turnover: suit.MinTurnover = None, max_cycle_days: suit.MaxCycleDays = None,
    min_completions: suit.MinCompletions = None, max_bom_versions: suit.MaxBomVersions = None,
    max_count_difference: suit.MaxCountDifference = None,
    max_scrap_rate: suit.MaxScrapRate = None,
    tolerance: acc.Tolerance = None,
) -> None:
    """Print (or write) a report of the ledger, for all of it, a month or a range of days.

    \b
    Examples:
      backflush report trial-balance --period 2026-11
      backflush report journal --from 2026-11-01 --to 2026-11-15 --format csv
      backflush report variances --by supplier --format xlsx --output ppv.xlsx
      backflush report income --period 2026-11
      backflush report analysis --period 2026-11
      backflush report suitability --period 2026-11 --max-cycle-days 3
    """
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output import reports as built
    from backflush.entrypoints.output import tables
    from backflush.entrypoints.output.suitability import print_suitability, suitability_report

    window = window_of(period, start, end, name)
    if by is not None and name is not ReportName.VARIANCES:
        raise OptionError("--by", "only the variances report is broken down by item, "
                          "supplier or work center")
    given = {"min_turnover": min_turnover, "max_cycle_days": max_cycle_days,
             "min_completions": min_completions, "max_bom_versions": max_bom_versions,
             "max_count_difference": max_count_difference, "max_scrap_rate": max_scrap_rate}
    if name is not ReportName.SUITABILITY and (option := suit.given_any(**given)):
        raise OptionError(option, "only the suitability report has thresholds")
    limits = suit.thresholds(**given)
    if tolerance is not None and name is not ReportName.BOM_ACCURACY:
        raise OptionError("--tolerance", "only the bom-accuracy report has a tolerance")
    share = acc.tolerance_of(tolerance)
    if fmt is Format.XLSX and out is None:
        raise OptionError("--format", "an xlsx report needs --output FILE.xlsx")
    if fmt is Format.TABLE and out is not None:
        raise OptionError("--output", "a table is printed; write a file with --format csv, "
                          "json or xlsx")
    if out is not None:
        common.output_option(out)
    monthly = name in (ReportName.INCOME, ReportName.GAAP, ReportName.ANALYSIS)
    if monthly and (start is not None or end is not None):
        raise OptionError("--from" if start else "--to", f"the {name.value} report is of a "
                          "month: give --period YYYY-MM")
    with common.opened(db) as ledger:
        month = period.strip() if period else None
        if monthly and month is None:
            month = common.read(ledger, latest_closed)
            if month is None:
                raise OptionError("--period", f"no period is closed yet: give the month of "
                                  f"the {name.value} report with --period YYYY-MM")
        made = common.read(ledger, lambda uow: suitability_report(uow, window, limits)
                           if name is ReportName.SUITABILITY else built.report(
            uow, name.value, window, by.value if by else None, month, share))
    if fmt is Format.TABLE:
        (print_suitability if name is ReportName.SUITABILITY else tables.print_report)(
            console_.stdout(), made)
        return
    if fmt is Format.XLSX:
        from backflush.entrypoints.output.xlsx import write_workbook

        assert out is not None
        write_workbook(out, [made])
    else:
        text = tables.csv_text(made) if fmt is Format.CSV else tables.json_text(made)
        if out is None:
            typer.echo(text, nl=False)
            return
        from backflush.entrypoints.output.files import write_text

        write_text(out, text)
    console_.stdout().print(f"Wrote {len(made.rows)} rows to {shown(out)}")


def pack_option(out: Path, option: str = "--output") -> Path:
    """A close pack's file: .xlsx or .html, in a folder that can be written."""
    if out.suffix.lower() not in (".xlsx", ".html"):
        raise OptionError(option, f"{shown(str(out), markup=False)}: a close pack is an "
                          ".xlsx workbook or an .html page")
    return common.output_option(out, option)


def close_pack(
    out: Annotated[Path, typer.Option(
        "--output", metavar="FILE", help="The workbook (.xlsx) or printable page (.html) "
        "to write.")],
    db: DbOption = None,
    period: Annotated[str | None, typer.Option(
        "--period", metavar="YYYY-MM", help="The month (default: the latest closed).")]
        = None,
) -> None:
    """Write a period's close pack: trial balance, income statements, books to GAAP,
    variances (charted) and stock, as one XLSX workbook or a printable HTML page.

    \b
    Examples:
      backflush close-pack --output close-2026-11.xlsx
      backflush close-pack --period 2026-11 --output close-2026-11.html
    """
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output.closepack import write_pack

    pack_option(out)
    if period is not None:
        window_of(period, None, None, ReportName.INCOME)  # a malformed month: exit 2
    with common.opened(db) as ledger:
        month = period.strip() if period else common.read(ledger, latest_closed)
        if month is None:
            raise OptionError("--period", "no period is closed yet: give the month with "
                              "--period YYYY-MM")
        count = common.read(ledger, lambda uow: write_pack(out, uow, month))
    console_.stdout().print(f"Wrote the close pack of {month} ({count} reports) to "
                            f"{shown(out)}")


def queue(
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="How to print or write it.")]
        = Format.TABLE,
    out: Annotated[Path | None, typer.Option(
        "--output", metavar="FILE", help="Write to this file instead of printing.")] = None,
    retry: Annotated[bool, typer.Option(
        "--retry", help="Post the held completions again first (those that post leave the "
        "queue).")] = False,
) -> None:
    """List the queue: components a completion could not take from stock, parked until
    stock arrives at their location (they clear by themselves then, oldest first), and
    completions held unposted (policy failed_backflush: hold) with why: short stock,
    closed period, unknown item or unit; each with its age, and whether it blocks the close
    of its period or only warns.

    \b
    Examples:
      backflush queue --db sqlite:///plant.db
      backflush queue --retry --db sqlite:///plant.db
    """
    if retry:
        from backflush.entrypoints.output import console as console_
        from backflush.service_layer.queue import retry_held

        with common.opened(db) as ledger:
            done = common.write(lambda: retry_held(ledger.unit_of_work()))
        console_.stderr().print(f"Retried the held completions: {len(done.posted)} posted"
                                + (f" ({', '.join(done.posted[:10])})" if done.posted else "")
                                + f", {len(done.still)} still held.")
    report(ReportName.QUEUE, db, fmt, out)


def latest_closed(uow: UnitOfWork) -> str | None:
    from backflush.service_layer.periods import closed_periods

    closed = closed_periods(uow)
    return closed[-1] if closed else None


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
