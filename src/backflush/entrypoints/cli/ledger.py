"""``init``, ``import``, ``post`` and ``close``: the commands that write to a kept ledger.

Each checks its options first (exit 2 before anything is read or written), opens the ledger
(``init`` creates it; every other command only opens one that is there), runs one use case
in :func:`~.common.write` (run again while another writer got there first) and prints what
it did. ``post --batch-size`` commits batch by batch and, when one fails after others were
committed, says exactly which were (:class:`~.common.PartlyPosted`, exit 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backflush.domain.policy import Journal
from backflush.entrypoints.cli import common
from backflush.entrypoints.cli.common import Committed, DbOption, OptionError, PartlyPosted
from backflush.entrypoints.output.safety import shown

if TYPE_CHECKING:
    from decimal import Decimal

    from backflush.service_layer.batch import BatchResult, Flows, Item, Located
    from backflush.service_layer.imports import ImportResult


class ImportKind(StrEnum):
    ITEMS = "items"
    BOMS = "boms"
    ROUTINGS = "routings"
    WORK_CENTERS = "work-centers"
    KANBAN = "kanban"
    COSTS = "costs"


def init(
    db: DbOption = None,
    scenario: Annotated[Path | None, typer.Option(
        "--from", metavar="SCENARIO", help="Take master data, policy and opening balances "
        "from a scenario file (its events are not posted: use `backflush post` for them).")]
        = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD", help="First day of the ledger, and the date the "
        "first standard costs are rolled up at (default: the month of the scenario's first "
        "event, else today).")] = None,
    currency: Annotated[str | None, typer.Option(
        "--currency", metavar="CODE", help="ISO 4217 currency of a ledger made without "
        "--from (default USD).")] = None,
    minor_unit: Annotated[int | None, typer.Option(
        "--minor-unit", min=0, max=4, help="Decimal places of the currency (needed for a "
        "currency backflush does not know).")] = None,
    journal: Annotated[Journal | None, typer.Option(
        "--journal", help="An entry per event, summary entries (one per day of a batch of "
        "completions, receipts and sales), or auto (summary for batches of 1,000 events or "
        "more); default: the scenario's, else auto.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Add the ledger's tables to a database that holds other tables.")]
        = False,
) -> None:
    """Create a ledger (or upgrade an existing one's schema); nothing is posted.

    \b
    Example:
      backflush init --db sqlite:///plant.db --from examples/stool.yaml
    """
    from dataclasses import replace

    from backflush.bootstrap import create_ledger
    from backflush.domain.masterdata import EMPTY
    from backflush.domain.numbers import MINOR_UNITS
    from backflush.domain.policy import Policy
    from backflush.service_layer.setup import set_up_ledger

    day = common.day_option(as_of, "--as-of") if as_of is not None else None
    if scenario is not None and (currency is not None or minor_unit is not None):
        raise OptionError("--currency", "a scenario names its own currency; give --currency "
                          "and --minor-unit only without --from")
    url = common.database(db)
    opening = None
    if scenario is not None:
        from backflush.adapters.files import load_scenario

        s = load_scenario(scenario)
        master, opening = s.master, s.opening
        policy = s.policy if journal is None else replace(s.policy, journal=journal)
        day = day or (s.as_of if s.events else common.day_option(None, "--as-of"))
        what = f"{len(s.master.items)} items, policy {policy.variant} from {scenario}"
    else:
        code = (currency or "USD").strip().upper()
        if not (len(code) == 3 and code.isascii() and code.isalpha()):
            raise OptionError("--currency", f"expected a 3-letter ISO 4217 code such as USD, "
                              f"got {shown(repr(currency), markup=False)}")
        if minor_unit is None and code not in MINOR_UNITS:
            raise OptionError("--currency", f"{code} is not a currency backflush knows: give "
                              "its decimal places with --minor-unit")
        minor = minor_unit if minor_unit is not None else MINOR_UNITS[code]
        master = EMPTY
        policy = Policy(minor_unit=minor, currency=code, journal=journal or Journal.AUTO)
        day = day or common.day_option(None, "--as-of")
        what = "no master data yet (use `backflush import`)"
    created = common.new_file(url)
    try:
        ledger = create_ledger(url, force=force)
    except BaseException:
        common.discard(created)
        raise
    done = False
    try:
        if common.read(ledger, lambda uow: uow.master.ready()):
            typer.echo(f"{shown(ledger.url, markup=False)} already holds a ledger; its schema "
                       "is up to date and nothing else was changed (use `backflush import` "
                       "for master data).")
            return
        assert day is not None
        first = day
        common.write(lambda: set_up_ledger(ledger.unit_of_work(), master, policy, first,
                                           opening))
        done = True
    finally:
        ledger.close()
        if not done:
            common.discard(created)  # a failed init leaves no new file behind
    typer.echo(f"Created a ledger in {shown(ledger.url, markup=False)}: "
               f"{shown(what, markup=False)}.")


def import_(
    kind: Annotated[ImportKind, typer.Argument(
        metavar="KIND", help="What the file holds: items|boms|routings|work-centers|kanban|"
        "costs.")],
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="A .csv or .xlsx file, header on line 1 (columns: README).")],
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD", help="Roll-up date, and the date of posted cost "
        "changes (default: today).")] = None,
) -> None:
    """Import master data; every row is checked first, and nothing is imported if any is bad.

    \b
    Example:
      backflush import items items.csv --db sqlite:///plant.db
    """
    from backflush.adapters import files
    from backflush.service_layer.imports import import_costs, import_master

    day = common.day_option(as_of, "--as-of")
    with common.opened(db) as ledger:
        master = common.read(ledger, lambda uow: uow.master.master())

        def use_case() -> ImportResult:
            uow = ledger.unit_of_work()
            if kind is ImportKind.COSTS:
                return import_costs(uow, changes, day)
            return import_master(uow, kind.value, day, rows=rows, **records)

        records, changes = files.read_import(kind.value, file, master, day)
        rows = sum(len(v) for v in records.values())
        result = common.write(use_case)
    changed = "rate changes" if kind.value == "work-centers" else "cost changes"
    posted = f"; posted {result.posted.posted} {changed}" if result.posted else ""
    typer.echo(f"Imported {result.rows} {kind.value} from {shown(file, markup=False)}; cost "
               f"version {result.cost_version} in force{posted}.")


def post(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="Events: .csv, .jsonl, .xlsx, or a scenario's .yaml/.json.")],
    db: DbOption = None,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=0, metavar="N", help="Events per transaction; 0 = the whole file "
        "in one (all or nothing).")] = 0,
    preview: Annotated[bool, typer.Option(
        "--preview", help="What-if: print the entries the file would post and each "
        "account's change, and keep nothing.")] = False,
) -> None:
    """Post events; each batch posts all or nothing, and posting a file again skips what is
    already posted (duplicates).

    CSV and JSON Lines files are streamed: memory stays bounded whatever the file's size.

    \b
    Examples:
      backflush post events.csv --db sqlite:///plant.db --batch-size 10000
      backflush post rate-change.csv --preview     # the revaluation, nothing posted
    """
    if preview:
        if batch_size:
            raise OptionError("--batch-size", "a preview is of the whole file at once")
        preview_file(file, db)
        return
    from functools import partial

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from backflush.adapters.files import stream_events
    from backflush.entrypoints.output import console as out
    from backflush.service_layer.batch import BatchResult
    from backflush.service_layer.posting import post_events

    errors = out.stderr()
    totals = BatchResult()
    retried: list[int] = []
    committed: list[Committed] = []
    with common.opened(db) as ledger, Progress(
            SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} events"),
            TimeElapsedColumn(), console=errors, transient=True,
            disable=not errors.is_terminal) as progress:
        master = common.read(ledger, lambda uow: uow.master.master())
        task = progress.add_task(f"Posting {shown(file.name)}", total=None)

        def attempt(events: Iterable[Item], base: int) -> BatchResult:
            return post_events(ledger.unit_of_work(), events,
                               lambda k: progress.update(task, completed=base + k))

        if batch_size == 0:
            totals = common.write(lambda: attempt(stream_events(file, master), 0), retried)
        else:
            number = 1
            try:
                for batch in batched(stream_events(file, master), batch_size):
                    base = totals.posted + totals.duplicates
                    result = common.write(partial(attempt, batch, base), retried)
                    totals.add(result)
                    committed.append(Committed(number, result.posted, result.duplicates))
                    number += 1
            except BaseException as exc:
                if committed:
                    raise PartlyPosted(committed, number, exc) from exc
                raise
    typer.echo(f"Posted {totals.posted} events from {shown(file, markup=False)} "
               f"({totals.summarised} in summary entries); {totals.duplicates} duplicates "
               f"skipped; {len(retried)} transactions rerun after concurrent updates.")
    if totals.held:
        typer.echo(f"Held {len(totals.held)} completions that cannot post yet ("
                   + ", ".join(shown(i, markup=False) for i in totals.held[:10])
                   + (", ..." if len(totals.held) > 10 else "")
                   + "): `backflush queue` says why, `backflush queue --retry` posts them.")


def preview_file(file: Path, db: str | None) -> None:
    from backflush.adapters.files import stream_events
    from backflush.entrypoints.output import console as out
    from backflush.entrypoints.output.reports import preview as preview_reports
    from backflush.entrypoints.output.tables import print_report
    from backflush.service_layer.posting import preview_events

    with common.opened(db) as ledger:
        master = common.read(ledger, lambda uow: uow.master.master())
        seen = common.write(lambda: preview_events(ledger.unit_of_work(),
                                                   stream_events(file, master)))
        minor = common.read(ledger, lambda uow: uow.master.policy().minor_unit)
    console = out.stdout()
    for made in preview_reports(seen, minor):
        print_report(console, made)
    console.print(f"Preview only: {seen.result.posted} events of {shown(file)} would post "
                  f"({seen.result.duplicates} duplicates); nothing was posted.")


def batched(stream: Iterable[Located | Flows], size: int) -> Iterator[list[Item]]:
    """The stream in batches of ``size`` events, columns of flows split where a batch ends.

    Each batch is handed over as soon as it is full, before the stream is read on: a batch
    is committed before a bad line further down stops the stream, which is what lets
    ``post`` say exactly which batches were posted."""
    from backflush.service_layer.batch import Flows

    batch: list[Item] = []
    count = 0
    for item in stream:
        if not isinstance(item, Flows):
            batch.append(item)
            count += 1
            if count == size:
                yield batch
                batch, count = [], 0
            continue
        start = 0
        while start < len(item):
            take = min(size - count, len(item) - start)
            batch.append(item.part(start, start + take))
            count += take
            start += take
            if count == size:
                yield batch
                batch, count = [], 0
    if batch:
        yield batch



def close(
    period: Annotated[str, typer.Argument(metavar="PERIOD", help="The month to close, "
                                          "YYYY-MM.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Close even with issues pending or stock below zero at the period's "
        "end (refused otherwise); the close's alert records what was forced.")] = False,
    gaap_bridge: Annotated[bool, typer.Option(
        "--gaap-bridge", help="Also post the GAAP bridge at the period's end (stock at full "
        "standard, material variances prorated, lower of cost and NRV), reversed on the "
        "next day.")] = False,
    nrv: Annotated[list[str] | None, typer.Option(
        "--nrv", metavar="ITEM=VALUE", help="Net realisable value per unit of an item, for "
        "the GAAP bridge's lower of cost and NRV; repeat for more items.")] = None,
) -> None:
    """Close a period: dispose of the variances and lock it.

    Refused while components are still owed to completions (pending issues) or stock is
    below zero at the period's end, unless --force.

    \b
    Examples:
      backflush close 2026-11 --db sqlite:///plant.db
      backflush close 2026-11 --gaap-bridge --nrv STOOL=12.00
    """
    from backflush.domain.events import Close, period_bounds
    from backflush.service_layer.closing import close_event
    from backflush.service_layer.posting import post_events

    _, end = period_bounds(period)  # NumberError (exit 2) before the ledger is opened
    values = nrv_option(nrv or [])
    if values and not gaap_bridge:
        raise OptionError("--nrv", "net realisable values are used by the GAAP bridge: add "
                          "--gaap-bridge")
    Close(id="close", date=end, period=period, gaap_bridge=gaap_bridge, nrv=values)
    with common.opened(db) as ledger:
        event = common.read(ledger, lambda uow: close_event(
            uow, period, force=force, gaap_bridge=gaap_bridge, nrv=values))
        common.write(lambda: post_events(ledger.unit_of_work(), [event]))
        forced = [a.message for a in common.read(ledger, lambda uow: uow.events.alerts(
            event.id)) if a.code == "close_forced"]
    typer.echo(f"Closed {period}; events dated on or before {end} can no longer post.")
    if gaap_bridge:
        typer.echo(f"GAAP bridge posted at {end}, reversed on {end + timedelta(days=1)}: "
                   f"backflush report gaap --period {period}")
    for message in forced:
        typer.echo(f"Forced: {shown(message, markup=False)}")


def nrv_option(given: list[str]) -> tuple[tuple[str, Decimal], ...]:
    """``ITEM=VALUE`` pairs (exit 2 naming --nrv when one is malformed)."""
    from backflush.domain.errors import NumberError
    from backflush.domain.numbers import PRICE, to_decimal

    out = []
    for pair in given:
        item, sep, value = pair.partition("=")
        try:
            if not sep or not item.strip():
                raise NumberError("expected ITEM=VALUE")
            out.append((item.strip(), to_decimal(value.strip(), "nrv", PRICE)))
        except NumberError as exc:
            raise OptionError("--nrv", f"{shown(repr(pair), markup=False)}: {exc}") from None
    return tuple(out)


def reopen(
    period: Annotated[str, typer.Argument(metavar="PERIOD", help="The month to reopen, "
                                          "YYYY-MM (the latest closed one).")],
    reason: Annotated[str, typer.Option(
        "--reason", metavar="TEXT", help="Why it is reopened (required; kept on the "
        "record).")],
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="Who reopens it (default: the login name).")] = None,
    db: DbOption = None,
) -> None:
    """Reopen the latest closed period, on the record: who, when and why. Its close entries
    stay; close it again once the corrections are posted.

    \b
    Example:
      backflush reopen 2026-11 --reason "late supplier invoice" --db sqlite:///plant.db
    """
    import getpass

    from backflush.domain.events import period_bounds
    from backflush.service_layer.closing import reopen_event
    from backflush.service_layer.posting import post_events

    period_bounds(period)  # NumberError (exit 2) before the ledger is opened
    try:
        who = by if by is not None else getpass.getuser()
    except (KeyError, OSError):  # no login name to be found (a bare container)
        raise OptionError("--by", "no login name is known here: say who reopens it") from None
    with common.opened(db) as ledger:
        event = common.read(ledger, lambda uow: reopen_event(uow, period, reason, who))
        common.write(lambda: post_events(ledger.unit_of_work(), [event]))
    typer.echo(f"Reopened {period} ({shown(event.id, markup=False)}, by "
               f"{shown(who, markup=False)}: {shown(reason, markup=False)}); events dated in "
               "it can post again. Close it again with `backflush close "
               f"{period}`.")
