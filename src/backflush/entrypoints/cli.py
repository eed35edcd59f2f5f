"""The ``backflush`` command line. Each command parses its input and calls the services."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from backflush.adapters import tabular
from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.scenario_file import load_scenario, scenario_from_text
from backflush.adapters.sql.db import database_url, make_engine, migrate, require_schema
from backflush.adapters.sql.ledger import SqlUnitOfWork
from backflush.domain.bom import Boms
from backflush.domain.costing import MasterData
from backflush.domain.errors import BackflushError, PostingError, ValidationError
from backflush.domain.events import Close, Event, Flow, FlowRun, period_bounds
from backflush.domain.numbers import MINOR_UNITS
from backflush.domain.policy import Journal, Method, Policy
from backflush.entrypoints import output
from backflush.service_layer import master_data, reports, services
from backflush.service_layer.scenario import Scenario, run_scenario
from backflush.service_layer.unit_of_work import UnitOfWork, with_retries

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Backflush costing: standard costs, trigger points, variances, close.")

EXIT_OK, EXIT_REFUSED, EXIT_INVALID = 0, 1, 2


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)  # messages stay whole lines in logs


def _execute(loader: Callable[[], Scenario], *, as_json: bool, journal: bool, title: str,
             db: str | None = None) -> None:
    console = _console()
    try:
        scenario = loader()
    except ValidationError as exc:
        if as_json:
            print(json.dumps(output.run_json(None, list(exc.problems)), indent=2))
        else:
            output.print_problems(console, list(exc.problems),
                                  "The scenario is invalid; nothing was posted:")
        raise typer.Exit(EXIT_INVALID) from None
    with _errors(console), contextlib.ExitStack() as stack:
        _report_run(console, stack, scenario, as_json=as_json, journal=journal, title=title,
                    db=db)


def _report_run(console: Console, stack: contextlib.ExitStack, scenario: Scenario, *,
                as_json: bool, journal: bool, title: str, db: str | None) -> None:
    if db is None:
        uow: UnitOfWork = InMemoryUnitOfWork()
        outcome = run_scenario(uow, scenario)
        ledger_cm: Any = contextlib.nullcontext(uow)
    else:
        engine = stack.enter_context(_engine(db, fresh=True))
        if _read(engine, lambda ledger: ledger.ready):
            output.print_problems(console, [], f"{database_url(db)} already holds a ledger; "
                                  "`run --db` needs a new one (add events with `backflush "
                                  "post`)")
            raise typer.Exit(EXIT_INVALID)
        outcome = run_scenario(SqlUnitOfWork(engine), scenario)
        ledger_cm = SqlUnitOfWork(engine, read_only=True)
    with ledger_cm as reading:
        ledger = reading.ledger
        if as_json:
            doc = output.run_json(ledger if outcome.ok else None, outcome.errors,
                                  outcome.result.duplicate_ids if outcome.result else None)
            print(json.dumps(doc, indent=2))
        elif not outcome.ok:
            output.print_problems(console, outcome.errors, "An event was refused; nothing was "
                                  "posted:")
        else:
            output.print_reports(console, ledger, journal=journal, title=title)
            if outcome.result and outcome.result.duplicates:
                console.print("Duplicates skipped: "
                              f"{', '.join(outcome.result.duplicate_ids)}")
            problems = reports.verify(ledger)
            if problems:
                _fail(console, "Invariants broken:", problems, EXIT_REFUSED)
    if not outcome.ok:
        raise typer.Exit(EXIT_REFUSED)


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON, format 1).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    method: Annotated[Method, typer.Option(help="backflush, or sequential tracking.")] =
        Method.BACKFLUSH,
    journal: Annotated[bool, typer.Option(help="Print every journal entry.")] = True,
    db: Annotated[str | None, typer.Option(help="Keep the ledger in this database (a new "
                                           "one) instead of memory.")] = None,
) -> None:
    """Run a scenario into a fresh ledger (in memory unless --db) and print its reports."""
    _execute(lambda: load_scenario(file, method=method), as_json=as_json, journal=journal,
             title=f"{file.name} ({method.value})", db=db)


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    journal: Annotated[bool, typer.Option(help="Print every journal entry.")] = False,
    method: Annotated[Method, typer.Option(help="backflush, or sequential tracking.")] =
        Method.BACKFLUSH,
) -> None:
    """Run the shipped demo: an office-chair plant's month, and print its reports."""
    text = resources.files("backflush").joinpath("data/demo.yaml").read_text("utf-8")
    _execute(lambda: scenario_from_text(text, "demo.yaml", method=method), as_json=as_json,
             journal=journal, title="Demo: office-chair plant, November 2026")


@app.command()
def compare(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON, format 1).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Cost the same events by backflush and by sequential tracking, side by side."""
    console = _console()
    ledgers = {}
    for method in Method:
        try:
            scenario = load_scenario(file, method=method)
        except ValidationError as exc:
            output.print_problems(console, list(exc.problems),
                                  "The scenario is invalid; nothing was posted:")
            raise typer.Exit(EXIT_INVALID) from None
        uow = InMemoryUnitOfWork()
        outcome = run_scenario(uow, scenario)
        if not outcome.ok:
            output.print_problems(console, outcome.errors, f"{method.value}: an event was "
                                  "refused; nothing was posted:")
            raise typer.Exit(EXIT_REFUSED)
        ledgers[method.value] = uow.ledger
    comparison = reports.compare(ledgers["backflush"], ledgers["sequential"])
    if as_json:
        print(json.dumps(output.comparison_json(comparison, ledgers["backflush"]), indent=2))
    else:
        output.print_comparison(console, comparison, ledgers["backflush"])


# --------------------------------------------------------------------------- a kept ledger

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: $BACKFLUSH_DB or sqlite:///backflush.db).")]
T = TypeVar("T")


def _fail(console: Console, title: str, lines: list[str], code: int) -> NoReturn:
    console.print(f"[bold red]{title}[/]")
    for line in lines:
        console.print(f"  x {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def _errors(console: Console) -> Iterator[None]:
    """Map the engine's errors to messages and exit codes."""
    try:
        yield
    except ValidationError as exc:
        output.print_problems(console, list(exc.problems), "Invalid input; nothing was "
                              "changed:")
        raise typer.Exit(EXIT_INVALID) from None
    except PostingError as exc:
        _fail(console, "Refused; nothing of this batch was posted:", [str(exc)], EXIT_REFUSED)
    except BackflushError as exc:
        _fail(console, "Error:", [str(exc)], EXIT_INVALID)


@contextlib.contextmanager
def _engine(db: str | None, *, fresh: bool = False) -> Iterator[Any]:
    """An engine on the ledger's database, disposed of (connections closed) afterwards."""
    engine = make_engine(db)
    try:
        if fresh:
            migrate(engine)
        else:
            require_schema(engine)
        yield engine
    finally:
        engine.dispose()


def _read(engine: Any, fn: Callable[[Any], T]) -> T:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        return fn(uow.ledger)


@app.command()
def init(
    db: DbOption = None,
    scenario: Annotated[Path | None, typer.Option(
        "--from", help="Take master data, policy and opening balances from a scenario file "
                       "(its events are not posted).")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="Date the first standard costs are rolled up at (default: today).")] = None,
    currency: Annotated[str, typer.Option(help="Currency of a ledger made without --from.")]
        = "USD",
    journal: Annotated[str | None, typer.Option(
        help="per_event (an entry per event) or summary (completions, receipts and sales in "
             "one summary entry per day of a batch); default: the scenario's, else per_event"
    )] = None,
) -> None:
    """Create a ledger (or upgrade an existing one's schema)."""
    console = _console()
    with _errors(console), _engine(db, fresh=True) as engine:
        if _read(engine, lambda ledger: ledger.ready):
            console.print(f"{database_url(db)}: ledger already there; schema is up to date.")
            return
        day = date.fromisoformat(as_of) if as_of else date.today()
        if journal is not None and journal not in [j.value for j in Journal]:
            _fail(console, "Invalid option:", [f"--journal must be per_event or summary, got "
                                               f"{journal!r}"], EXIT_INVALID)
        if scenario is not None:
            s = load_scenario(scenario)
            policy = s.policy if journal is None else replace(s.policy, journal=Journal(journal))
            services.set_up_ledger(SqlUnitOfWork(engine), s.master, policy,
                                   s.as_of if s.events else day, s.opening)
            what = f"{len(s.master.items)} items, policy {s.policy.variant} from {scenario}"
        else:
            policy = Policy(minor_unit=MINOR_UNITS.get(currency.upper(), 2),
                            currency=currency.upper(), journal=Journal(journal or "per_event"))
            services.set_up_ledger(SqlUnitOfWork(engine), MasterData({}, Boms({})), policy, day)
            what = "no master data yet (use `backflush import`)"
        console.print(f"Created a ledger in {database_url(db)}: {what}.")


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help="items | boms | routings | work-centers | costs")],
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file (header on line 1).")],
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option(
        help="Roll-up date, and the date of posted cost changes (default: today).")] = None,
) -> None:
    """Import master data; every row is checked first and nothing is imported if any is bad."""
    console = _console()
    if kind not in tabular.COLUMNS:
        _fail(console, "Unknown import:", [f"{kind!r}; expected one of "
                                           f"{', '.join(tabular.COLUMNS)}"], EXIT_INVALID)
    with _errors(console), _engine(db) as engine:
        day = date.fromisoformat(as_of) if as_of else date.today()
        master = _read(engine, lambda ledger: ledger.master)

        def do() -> master_data.ImportResult:
            uow = SqlUnitOfWork(engine)
            if kind == "items":
                items = tabular.read_items(file, master)
                return master_data.import_master(uow, kind, day, items=items, rows=len(items))
            if kind == "boms":
                boms = tabular.read_boms(file)
                return master_data.import_master(uow, kind, day, boms=boms, rows=len(boms))
            if kind == "routings":
                routings = tabular.read_routings(file)
                return master_data.import_master(uow, kind, day, routings=routings,
                                                 rows=len(routings))
            if kind == "work-centers":
                wcs = tabular.read_work_centers(file)
                return master_data.import_master(uow, kind, day, work_centers=wcs,
                                                 rows=len(wcs))
            changes = tabular.read_costs(file, master, day, f"costs:{file.name}")
            return master_data.import_costs(uow, changes, day)

        result = with_retries(do)
    posted = f"; posted {result.posted.posted} cost changes" if result.posted else ""
    console.print(f"Imported {result.rows} {kind} from {file}; cost version "
                  f"{result.cost_version} in force{posted}.")


@app.command()
def post(
    file: Annotated[Path, typer.Argument(help="Events: .csv, .jsonl, or a scenario .yaml/.json")],
    db: DbOption = None,
    batch_size: Annotated[int, typer.Option(
        help="Events per transaction; 0 = the whole file in one (all or nothing).")] = 0,
) -> None:
    """Post events; each batch posts all or nothing. Re-posting a file skips duplicates.

    CSV and JSON Lines files are streamed: memory stays bounded whatever the file's size.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = _console()
    totals = services.BatchResult()
    retried: list[int] = []
    with _errors(console), _engine(db) as engine:
        master = _read(engine, lambda ledger: ledger.master)
        with Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} "
                                                  "events"), TimeElapsedColumn(),
                      console=console, transient=True,
                      disable=not console.is_terminal) as progress:
            task = progress.add_task(f"Posting {file.name}", total=None)
            batches: Iterator[Sequence[Event | Flow | FlowRun]] | None = None
            if batch_size > 0:
                batches = tabular.batched(tabular.stream_events(file, master), batch_size)
            n = 0
            while True:
                base = totals.posted + totals.duplicates
                if batches is not None:
                    batch: Sequence[Event | Flow | FlowRun] | None = next(batches, None)
                    if batch is None:
                        break
                    n += 1

                def attempt(batch: Sequence[Event | Flow | FlowRun] | None = (
                                batch if batches else None),
                            base: int = base) -> services.BatchResult:
                    events = batch if batch is not None else tabular.stream_events(file, master)
                    return services.post_events(
                        SqlUnitOfWork(engine), events,
                        lambda k: progress.update(task, completed=base + k))

                try:
                    result = with_retries(attempt, on_retry=lambda _: retried.append(1))
                except (PostingError, ValidationError):
                    if totals.posted or totals.duplicates:
                        console.print(f"Batches 1-{n - 1} were posted ({totals.posted} "
                                      f"events); batch {n} was not. Fix it and post the file "
                                      "again: what is already posted is skipped.")
                    raise
                totals.posted += result.posted
                totals.summarised += result.summarised
                totals.duplicates += result.duplicates
                if batches is None:
                    break
    summarised = f" ({totals.summarised} in summary entries)" if totals.summarised else ""
    console.print(f"Posted {totals.posted} events from {file}{summarised}"
                  + (f"; {totals.duplicates} duplicates skipped" if totals.duplicates else "")
                  + (f"; {len(retried)} transactions rerun after concurrent updates"
                     if retried else "") + ".")


@app.command()
def close(
    period: Annotated[str, typer.Argument(help="The month to close, e.g. 2026-11.")],
    db: DbOption = None,
) -> None:
    """Close a period: dispose of the variances and lock it."""
    console = _console()
    with _errors(console), _engine(db) as engine:
        try:
            _, end = period_bounds(period)
        except ValueError as exc:
            _fail(console, "Invalid period:", [str(exc)], EXIT_INVALID)
        event = Close(id=f"close-{period}", date=end, period=period)
        result = with_retries(lambda: services.post_events(SqlUnitOfWork(engine), [event]))
    if result.duplicates:
        console.print(f"{period} was already closed.")
    else:
        console.print(f"Closed {period}; events dated on or before {end} can no longer post.")


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="trial-balance | stock | variances | journal")],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | xlsx")] = "table",
    out: Annotated[Path | None, typer.Option("--output", help="Write to this file.")] = None,
) -> None:
    """Print (or write) a report of the ledger."""
    console = _console()
    if name not in output.REPORTS:
        _fail(console, "Unknown report:", [f"{name!r}; expected one of "
                                           f"{', '.join(output.REPORTS)}"], EXIT_INVALID)
    if fmt not in ("table", "csv", "json", "xlsx"):
        _fail(console, "Unknown format:", [f"{fmt!r}; expected table, csv, json or xlsx"],
              EXIT_INVALID)
    if fmt == "xlsx" and out is None:
        _fail(console, "An xlsx report needs --output FILE.xlsx", [], EXIT_INVALID)
    with _errors(console), _engine(db) as engine:
        _read(engine, lambda ledger: output.write_report(console, ledger, name, fmt, out))


@app.command()
def explain(
    key: Annotated[str, typer.Argument(help="An event id, or a journal entry number (#42).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The audit trail of an event or entry: BOM and cost versions, quantities, lines."""
    console = _console()
    with _errors(console), _engine(db) as engine:
        def show(ledger: Any) -> None:
            found = reports.explain(ledger, key)
            if found is None:
                _fail(console, f"No event or journal entry {key!r}.", [], EXIT_INVALID)
            output.print_explanation(console, found, ledger, as_json=as_json)

        _read(engine, show)


@app.command()
def verify(db: DbOption = None) -> None:
    """Check every invariant of the posting rules against the stored ledger."""
    console = _console()
    with _errors(console), _engine(db) as engine:
        problems = _read(engine, reports.verify)
    if problems:
        _fail(console, "The ledger is NOT sound:", problems, EXIT_REFUSED)
    console.print("Ledger verified: every entry balances, inventory accounts equal the stock "
                  "subledger at standard, quantities are conserved, every line has its event.")


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the plant's files into.")],
    items: Annotated[int, typer.Option(help="Number of items.")] = 200,
    depth: Annotated[int, typer.Option(help="BOM levels of made items (1-10).")] = 3,
    fan_out: Annotated[int, typer.Option(help="Components per BOM.")] = 5,
    phantom_share: Annotated[float, typer.Option(help="Share of intermediates that are "
                                                 "phantoms.")] = 0.1,
    scrap_share: Annotated[float, typer.Option(help="Share of BOM lines with a scrap "
                                               "factor.")] = 0.2,
    events: Annotated[int, typer.Option(help="Number of events.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 1,
) -> None:
    """Write a synthetic plant (CSV master data + JSON Lines events) for import and post."""
    from backflush.adapters.synthetic import PlantSpec
    from backflush.adapters.synthetic import generate as write_plant

    console = _console()
    spec = PlantSpec(items, depth, fan_out, phantom_share, scrap_share, events=events,
                     seed=seed)
    problems = spec.check()
    if problems:
        _fail(console, "Invalid parameters:", problems, EXIT_INVALID)
    written = write_plant(spec, out, lambda n: console.print(f"  {n} events written"))
    console.print(f"Wrote {written.items} items, {written.bom_lines} BOM lines and "
                  f"{written.events} events to {out}:")
    for path in written.files:
        console.print(f"  {path}")
    console.print("Load them with: backflush init; backflush import work-centers|items|"
                  "routings|boms FILE; backflush post events.jsonl")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.exit(0)
