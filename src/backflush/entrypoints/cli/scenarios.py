"""``run``, ``demo`` and ``compare``: a scenario file into a fresh ledger, and its reports.

A scenario runs all or nothing (:func:`~backflush.service_layer.scenario.run_scenario`):
in memory by default, or into a NEW ledger in a database with ``--db`` (kept there, so a
user can go on with ``report``, ``explain``, ``post``). A database that already holds a
ledger is refused: ``run`` never adds to books kept elsewhere (``post`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backflush.domain.policy import Method
from backflush.entrypoints.cli import common
from backflush.entrypoints.output.safety import shown

if TYPE_CHECKING:
    from backflush.bootstrap import Ledger
    from backflush.service_layer.scenario import Scenario
    from backflush.service_layer.unit_of_work import UnitOfWork

ScenarioFile = Annotated[Path, typer.Argument(
    metavar="FILE", help="Scenario file: YAML or JSON, format 1 (docs/scenario-format.md).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead "
                                          "of tables (decimals as strings).")]


class RunFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    XLSX = "xlsx"


FormatOption = Annotated[RunFormat | None, typer.Option(
    "--format", help="Tables, one JSON document (as --json), or an XLSX workbook with a "
    "sheet per report (needs --output).  [default: table]")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", metavar="FILE", help="Write the JSON document or the workbook to this file.")]
PackOption = Annotated[Path | None, typer.Option(
    "--close-pack", metavar="FILE", help="Also write the close pack of the last period the "
    "run closes (.xlsx workbook or .html page).")]
MethodOption = Annotated[Method, typer.Option(
    "--method", help="Cost by backflushing, or by sequential tracking (Materials, WIP, FG).")]


def run(
    file: ScenarioFile,
    as_json: JsonOption = False,
    method: MethodOption = Method.BACKFLUSH,
    journal: Annotated[bool, typer.Option(
        "--journal/--no-journal", help="Print every journal entry (or only their count).")]
        = True,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="URL", help="Keep the ledger in this database (a NEW one: a database "
        "that already holds a ledger is refused) instead of memory.")] = None,
    fmt: FormatOption = None,
    out: OutputOption = None,
    pack: PackOption = None,
) -> None:
    """Run a scenario into a fresh ledger (in memory unless --db) and print its reports.

    \b
    Example:
      backflush run examples/stool.yaml --json
    """
    from backflush.adapters.files import load_scenario

    execute(lambda: load_scenario(file, method=method), fmt=output_format(as_json, fmt, out),
            out=out, journal=journal, title=f"{shown(file.name)} ({method.value})", db=db,
            pack=pack)


def demo(
    as_json: JsonOption = False,
    journal: Annotated[bool, typer.Option(
        "--journal/--no-journal", help="Print every journal entry (or only their count).")]
        = False,
    method: MethodOption = Method.BACKFLUSH,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="URL", help="Keep the demo's ledger in this database (a NEW one), "
        "to go on with `backflush report`, `explain`, `post`.")] = None,
    fmt: FormatOption = None,
    out: OutputOption = None,
    pack: PackOption = None,
) -> None:
    """Run the shipped demo, an office-chair plant's month, and print its reports.

    \b
    Example:
      backflush demo --db sqlite:///demo.db
    """
    from importlib import resources

    from backflush.adapters.files import scenario_from_text

    def load() -> Scenario:
        text = resources.files("backflush").joinpath("data/demo.yaml").read_text("utf-8")
        return scenario_from_text(text, "demo.yaml", method=method)

    execute(load, fmt=output_format(as_json, fmt, out), out=out, journal=journal,
            title="Demo: office-chair plant, November 2026", db=db, pack=pack)


def output_format(as_json: bool, fmt: RunFormat | None, out: Path | None) -> RunFormat:
    """``--json`` is ``--format json``; checked before anything is read (exit 2)."""
    if as_json and fmt not in (None, RunFormat.JSON):
        raise common.OptionError("--json", f"--json is --format json; it cannot go with "
                                 f"--format {fmt}")
    chosen = RunFormat.JSON if as_json else fmt or RunFormat.TABLE
    if chosen is RunFormat.XLSX and out is None:
        raise common.OptionError("--format", "an xlsx workbook needs --output FILE.xlsx")
    if chosen is RunFormat.TABLE and out is not None:
        raise common.OptionError("--output", "tables are printed; write a file with "
                                 "--format json or xlsx")
    if out is not None:
        common.output_option(out)
    return chosen


def new_ledger(db: str | None) -> tuple[Ledger, Path | None]:
    """A NEW ledger: in memory, or in the database at ``db`` (created if need be), which must
    not hold one already (LedgerError, exit 4); and the SQLite file created for it, if one
    was (removed again when the run fails)."""
    from backflush import bootstrap
    from backflush.domain.errors import LedgerError

    if db is None:
        return bootstrap.memory_ledger(), None
    url = common.database(db)
    created = common.new_file(url)
    try:
        ledger = bootstrap.create_ledger(url)
    except BaseException:
        common.discard(created)
        raise
    try:
        if common.read(ledger, lambda uow: uow.master.ready()):
            raise LedgerError(f"{ledger.url} already holds a ledger; `run --db` and `demo "
                              "--db` need a new one (add events to it with `backflush post`)")
    except BaseException:
        ledger.close()
        raise
    return ledger, created


def execute(load: Callable[[], Scenario], *, fmt: RunFormat, out: Path | None,
            journal: bool, title: str, db: str | None, pack: Path | None = None) -> None:
    """Load (exit 2 when invalid), run all or nothing (exit 1 when an event is refused),
    print the reports and check every invariant (exit 1 when one is broken)."""
    from backflush.domain.errors import ValidationError
    from backflush.entrypoints.output import console as out_
    from backflush.entrypoints.output import runs
    from backflush.service_layer import reports
    from backflush.service_layer.scenario import run_scenario

    as_json = fmt is RunFormat.JSON
    if pack is not None:
        from backflush.entrypoints.cli.reading import pack_option

        pack_option(pack, "--close-pack")
    if db is not None:
        common.database(db)  # a malformed URL is refused before the file is even read
    try:
        scenario = load()
    except ValidationError as exc:
        if as_json and out is None:
            out_.print_json(runs.run_json(None, exc.problems))
        else:
            out_.print_problems(out_.stderr(), "The scenario is invalid; nothing was posted:",
                                exc.problems, exc.more)
        raise typer.Exit(common.INVALID) from None
    if pack is not None and not any(located.event.type == "close"
                                    for located in scenario.events):
        raise common.OptionError("--close-pack", "the scenario closes no period: a close "
                                 "pack is of a closed month")
    ledger, created = new_ledger(db)
    failed = True
    try:
        outcome = common.write(lambda: run_scenario(ledger.unit_of_work(), scenario))
        with ledger.unit_of_work(read_only=True) as uow:
            broken = reports.verify(uow) if outcome.ok else []
            duplicates = outcome.result.duplicate_ids if outcome.result else []
            if as_json and out is None:
                errors = [*outcome.errors, *runs.invariant_problems(broken)]
                out_.print_json(runs.run_json(uow if outcome.ok else None, errors,
                                              duplicates))
            elif not outcome.ok:
                out_.print_problems(out_.stderr(), "An event was refused; nothing was "
                                    "posted:" if outcome.refused else "The scenario is "
                                    "invalid; nothing was posted:", outcome.errors)
            elif out is not None:
                runs.write_run(out, uow, as_json=as_json, duplicates=duplicates)
                out_.stdout().print(f"Wrote the run's reports to {shown(out)}")
                if broken:
                    out_.print_problems(out_.stderr(), "Invariants broken:", broken)
            else:
                console = out_.stdout()
                runs.print_reports(console, uow, journal=journal, title=title)
                if duplicates:
                    console.print("Duplicates skipped: "
                                  + ", ".join(shown(d) for d in duplicates))
                if db is not None:
                    console.print(f"The ledger is kept in {shown(ledger.url)}.")
                if broken:
                    out_.print_problems(out_.stderr(), "Invariants broken:", broken)
            if pack is not None and outcome.ok:
                write_pack(uow, pack, scenario, quiet=as_json and out is None)
        failed = not outcome.ok
    finally:
        ledger.close()
        if failed:
            common.discard(created)  # nothing was posted: no file left behind either
    if not outcome.ok and not outcome.refused:
        raise typer.Exit(common.INVALID)  # (e.g. opening balances the stock does not back)
    if not outcome.ok or broken:
        raise typer.Exit(common.REFUSED)


def write_pack(uow: UnitOfWork, pack: Path, scenario: Scenario, *, quiet: bool) -> None:
    """The close pack of the run's last closed period, with the same events costed by
    sequential tracking beside the books (run in memory)."""
    from dataclasses import replace

    from backflush.bootstrap import memory_ledger
    from backflush.entrypoints.output import console as out_
    from backflush.entrypoints.output.closepack import write_pack as write
    from backflush.service_layer import reports
    from backflush.service_layer.periods import closed_periods
    from backflush.service_layer.scenario import run_scenario

    closed = closed_periods(uow)
    if not closed:  # (its close was reopened and not closed again)
        out_.print_problems(out_.stderr(), "No close pack:", ["no period is closed at the "
                                                             "end of the run"])
        return
    comparison = None
    if scenario.policy.method is Method.BACKFLUSH:
        twin = memory_ledger()
        sequential = replace(scenario, policy=replace(scenario.policy, method=Method.SEQUENTIAL))
        if run_scenario(twin.unit_of_work(), sequential).ok:
            with twin.unit_of_work(read_only=True) as s:
                comparison = reports.compare(uow, s)
    count = write(pack, uow, closed[-1], scenario.name, comparison)
    if not quiet:
        out_.stdout().print(f"Wrote the close pack of {closed[-1]} ({count} reports) to "
                            f"{shown(pack)}")


def compare(file: ScenarioFile, as_json: JsonOption = False) -> None:
    """Cost the same events by backflush and by sequential tracking, side by side.

    \b
    Example:
      backflush compare examples/stool.yaml
    """
    from backflush.adapters.files import load_scenario
    from backflush.bootstrap import memory_ledger
    from backflush.domain.errors import ValidationError
    from backflush.entrypoints.output import console as out
    from backflush.entrypoints.output import runs
    from backflush.service_layer import reports
    from backflush.service_layer.scenario import run_scenario

    ledgers = {}
    for method in Method:
        try:
            scenario = load_scenario(file, method=method)
        except ValidationError as exc:
            out.print_problems(out.stderr(), "The scenario is invalid; nothing was posted:",
                               exc.problems, exc.more)
            raise typer.Exit(common.INVALID) from None
        ledger = memory_ledger()
        outcome = run_scenario(ledger.unit_of_work(), scenario)
        if not outcome.ok:
            out.print_problems(out.stderr(), f"{method.value}: an event was refused; nothing "
                               "was posted:", outcome.errors)
            raise typer.Exit(common.REFUSED)
        ledgers[method] = ledger
    with ledgers[Method.BACKFLUSH].unit_of_work(read_only=True) as b, \
            ledgers[Method.SEQUENTIAL].unit_of_work(read_only=True) as s:
        comparison = reports.compare(b, s)
        minor = b.master.policy().minor_unit
    if as_json:
        out.print_json(runs.comparison_json(comparison, minor))
    else:
        runs.print_comparison(out.stdout(), comparison, minor)
