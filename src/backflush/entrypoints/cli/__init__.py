"""The ``backflush`` command: the app, its global options, and the one place where errors
become messages and exit codes.

Every command module (:mod:`.scenarios`, :mod:`.ledger`, :mod:`.reading`,
:mod:`.generating`) parses its input, calls a use case of the service layer and prints; none
catches the engine's errors itself. :class:`_Guarded` runs every command and maps what it
raises to one clear message on stderr and a documented exit code (:func:`failure`), never a
traceback (``backflush --debug COMMAND`` adds one). :func:`main` (the console script) also
makes Typer's own usage errors one safe message, exit 2.

Start-up stays light: this module and the command modules import Typer, Rich's markup and
the domain's enums only; SQLAlchemy, Alembic, openpyxl, pydantic, msgspec and PyYAML are
imported inside the commands that need them.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from backflush import __version__
from backflush.domain.errors import (
    BackflushError,
    ConcurrencyError,
    LedgerError,
    NumberError,
    PostingError,
    StorageError,
    ValidationError,
)
from backflush.entrypoints.cli import (
    alerting,
    common,
    generating,
    ledger,
    reading,
    scenarios,
    serving,
    shopfloor,
)
from backflush.entrypoints.cli.common import GaveUp, OptionError, PartlyPosted
from backflush.entrypoints.output.safety import shown

DEBUG = "backflush.debug"  # key of the --debug flag in the context's meta
REASONS = {common.REFUSED: "an event was refused", common.INVALID: "the input is invalid",
           common.UNUSABLE: "the database could not be used",
           common.INTERRUPTED: "interrupted", common.INTERNAL: "an internal error"}


def _err(text: str = "") -> None:
    """A line on stderr (``text`` is ours, or already made safe)."""
    sys.stderr.write(text + "\n")


def _lines(title: str, lines: list[str], more: int = 0) -> None:
    _err(title)
    for line in lines:
        _err(f"  x {shown(line, markup=False)}")
    if more:
        _err(f"  ... and {more} more")


def describe(exc: BaseException) -> tuple[int, str, list[str]]:
    """The exit code, the headline and the lines that say what went wrong (a
    ValidationError's problems beyond those listed are counted by :func:`failure`)."""
    if isinstance(exc, ValidationError):
        return common.INVALID, "Invalid input; nothing was changed:", [str(p) for p in
                                                                     exc.problems]
    if isinstance(exc, PostingError):
        return (common.REFUSED, "An event was refused; nothing of its batch was posted:",
                [str(exc.problem)])
    if isinstance(exc, OptionError):
        return common.INVALID, "Invalid option; nothing was changed:", [str(exc)]
    if isinstance(exc, NumberError):
        return common.INVALID, "Invalid value; nothing was changed:", [str(exc)]
    if isinstance(exc, LedgerError):
        return common.UNUSABLE, "Cannot use the ledger; nothing was changed:", [str(exc)]
    if isinstance(exc, GaveUp):
        return (common.UNUSABLE, "The database stayed locked by other writers; nothing of "
                "the transaction was kept (run the command again once they are done):",
                [str(exc)])
    if isinstance(exc, ConcurrencyError):
        return (common.UNUSABLE, "The database stayed busy with other writers after every "
                "retry; nothing of the transaction was kept (run the command again):",
                [str(exc)])
    if isinstance(exc, StorageError):
        return (common.UNUSABLE, "The database failed; nothing of the transaction was kept:",
                [str(exc)])
    if isinstance(exc, BackflushError):
        return common.INVALID, "Refused; nothing was changed:", [str(exc)]
    if isinstance(exc, KeyboardInterrupt):
        return (common.INTERRUPTED, "Interrupted; nothing of the batch in progress was "
                "posted.", [])
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return (common.INVALID, "A file could not be read or written; nothing was changed:",
                [f"{where}{exc.strerror or exc}"])
    return (common.INTERNAL, "Internal error (a bug in backflush; please report it). A "
            "transaction not yet committed was rolled back; `backflush verify` checks the "
            "ledger:",
            [f"{type(exc).__name__}: {exc}", "run again with `backflush --debug ...` for the "
             "traceback"])


def failure(exc: BaseException, *, debug: bool = False) -> int:
    """Print what went wrong (safely: messages quote input) and return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, PartlyPosted):
        code, _, lines = describe(exc.cause)
        _err(f"Partly posted: {shown(exc.summary(), markup=False)}")
        _lines(f"Batch {exc.failed} failed: {REASONS.get(code, 'it failed')}:", lines,
               _more(exc.cause))
        _err("Fix the file and post it again: what was posted is skipped as duplicates.")
        return common.INTERRUPTED if code == common.INTERRUPTED else common.PARTIAL
    code, title, lines = describe(exc)
    _lines(title, lines, _more(exc))
    return code


def _more(exc: BaseException) -> int:
    return exc.more if isinstance(exc, ValidationError) else 0


class _Guarded(TyperGroup):
    """The app's group: runs the command, and turns whatever it raises into a message and an
    exit code (Typer's own exits and usage errors pass through)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit, GeneratorExit,
                BrokenPipeError):
            raise
        except BaseException as exc:  # every failure ends in an exit code
            code = failure(exc, debug=bool(ctx.meta.get(DEBUG)))
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=_Guarded, add_completion=True, no_args_is_help=False, rich_markup_mode=None,
    pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]},
    help="Backflush costing: standard costs, trigger points, variances, period close.",
    epilog=common.EXIT_CODES)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"backflush {__version__}")
        raise typer.Exit(common.OK)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version, help="Print the version and exit.")]
        = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of a failure as well as its message.")] = False,
) -> None:
    """Backflush costing: standard costs, trigger points, variances, period close."""
    ctx.meta[DEBUG] = debug
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(common.OK)


for _name, _command in (
        ("run", scenarios.run), ("demo", scenarios.demo), ("compare", scenarios.compare),
        ("init", ledger.init), ("import", ledger.import_), ("post", ledger.post),
        ("close", ledger.close), ("reopen", ledger.reopen), ("report", reading.report),
        ("close-pack", reading.close_pack), ("queue", reading.queue),
        ("explain", reading.explain),
        ("verify", reading.verify),
        ("generate", generating.generate), ("serve", serving.serve)):
    app.command(_name, epilog=common.EXIT_CODES)(_command)
app.add_typer(serving.token_app, name="token")
app.add_typer(alerting.alerts_app, name="alerts")
app.add_typer(shopfloor.kanban_app, name="kanban")


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null: the interpreter's last flush would
    fail again and print a traceback of its own."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: list[str] | None = None) -> None:
    """The console script: run the app, print Typer's usage errors safely, exit."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        code = command.main(args=args, prog_name="backflush", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: a bad option, a missing argument
        context = getattr(exc, "ctx", None)
        if context is not None:
            _err(shown(context.get_usage(), markup=False))
            _err(f"Try '{shown(context.command_path, markup=False)} -h' for help.")
        _err(f"Error: {shown(exc.format_message(), markup=False)}")
        code = getattr(exc, "exit_code", common.INVALID)
    except typer.Abort:
        _err("Aborted.")
        code = common.INTERRUPTED
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        _silence_stdout()
        code = common.OK
    except BaseException as exc:  # outside any command (while parsing)
        if isinstance(exc, SystemExit):
            raise
        code = failure(exc, debug="--debug" in args)
    sys.exit(code if isinstance(code, int) else common.OK)
