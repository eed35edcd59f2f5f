"""The ``backflush`` command line. Each command parses its input and calls the services."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.adapters.scenario_file import load_scenario, scenario_from_text
from backflush.domain.errors import ValidationError
from backflush.domain.policy import Method
from backflush.entrypoints import output
from backflush.service_layer import reports
from backflush.service_layer.scenario import Scenario, run_scenario

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Backflush costing: standard costs, trigger points, variances, close.")

EXIT_OK, EXIT_REFUSED, EXIT_INVALID = 0, 1, 2


def _console() -> Console:
    return Console(highlight=False)


def _execute(loader: object, *, as_json: bool, journal: bool, title: str) -> None:
    console = _console()
    try:
        scenario: Scenario = loader()  # type: ignore[operator]
    except ValidationError as exc:
        if as_json:
            print(json.dumps(output.run_json(None, list(exc.problems)), indent=2))
        else:
            output.print_problems(console, list(exc.problems),
                                  "The scenario is invalid; nothing was posted:")
        raise typer.Exit(EXIT_INVALID) from None
    uow = InMemoryUnitOfWork()
    outcome = run_scenario(uow, scenario)
    if as_json:
        doc = output.run_json(uow.ledger if outcome.ok else None, outcome.errors,
                              outcome.result.duplicates if outcome.result else None)
        print(json.dumps(doc, indent=2))
    elif not outcome.ok:
        output.print_problems(console, outcome.errors, "An event was refused; nothing was "
                              "posted:")
    else:
        output.print_reports(console, uow.ledger, journal=journal, title=title)
        if outcome.result and outcome.result.duplicates:
            console.print(f"Duplicates skipped: {', '.join(outcome.result.duplicates)}")
        problems = reports.verify(uow.ledger)
        if problems:
            output.print_problems(console, [], "Invariants broken:")
            for p in problems:
                console.print(f"  x {p}")
            raise typer.Exit(EXIT_REFUSED)
    if not outcome.ok:
        raise typer.Exit(EXIT_REFUSED)


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON, format 1).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    method: Annotated[Method, typer.Option(help="backflush, or sequential tracking.")] =
        Method.BACKFLUSH,
    journal: Annotated[bool, typer.Option(help="Print every journal entry.")] = True,
) -> None:
    """Run a scenario into a fresh in-memory ledger and print its reports."""
    _execute(lambda: load_scenario(file, method=method), as_json=as_json, journal=journal,
             title=f"{file.name} ({method.value})")


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


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        sys.exit(0)
