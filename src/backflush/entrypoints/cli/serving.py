"""``serve`` (the HTTP API) and ``token`` (its API tokens)."""

from __future__ import annotations

from typing import Annotated

import typer

from backflush.entrypoints.cli import common
from backflush.entrypoints.cli.common import DbOption, OptionError
from backflush.entrypoints.output.safety import shown

ROLES = "viewer|operator|accountant|admin"
token_app = typer.Typer(help="Make, list and revoke the HTTP API's tokens.",
                        no_args_is_help=True, context_settings={"help_option_names":
                                                                ["-h", "--help"]})


def ledger_option(given: list[str]) -> dict[str, str]:
    """``NAME=URL`` pairs (exit 2 naming --ledger when one is malformed or repeated)."""
    import re

    out: dict[str, str] = {}
    for pair in given:
        name, sep, url = pair.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) or not url.strip():
            raise OptionError("--ledger", f"expected NAME=URL (a name of letters, digits, - "
                              f"and _), got {shown(repr(pair), markup=False)}")
        if name in out:
            raise OptionError("--ledger", f"the ledger name {name} is given twice")
        out[name] = url.strip()
    return out


def serve(
    db: DbOption = None,
    ledger: Annotated[list[str] | None, typer.Option(
        "--ledger", metavar="NAME=URL", help="Serve this ledger too, at "
        "/api/v1/ledgers/NAME (repeat for more plants). --db is served as 'main'.")] = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")]
        = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8000,
    log: Annotated[bool, typer.Option(
        "--log/--no-log", help="One JSON line per request on stderr (method, path, status, "
        "milliseconds, token id: never a secret).")] = True,
) -> None:
    """Serve the HTTP API (OpenAPI at /api/v1/openapi.json, docs at /api/docs).

    \b
    Examples:
      backflush serve --db sqlite:///plant.db
      backflush serve --ledger north=postgresql://bf@db/north --ledger south=postgresql://bf@db/south
    """
    import logging
    import socket
    import sys

    import uvicorn

    from backflush.bootstrap import open_ledger
    from backflush.entrypoints.http.app import create_app

    urls = ledger_option(ledger or [])
    if db is not None or not urls:
        if "main" in urls:
            raise OptionError("--ledger", "the name main is --db's")
        urls = {"main": common.database(db), **urls}
    try:  # a clear exit 2 now, not uvicorn's after the ledgers are opened
        socket.create_server((host, port)).close()
    except OSError as exc:
        raise OptionError("--host" if isinstance(exc, socket.gaierror) else "--port",
                          f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    opened = {}
    try:
        for name, url in urls.items():
            opened[name] = open_ledger(url)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger("backflush.http").addHandler(handler)  # requests propagate
        logging.getLogger("backflush.http").setLevel(logging.WARNING)
        logging.getLogger("backflush.http.requests").setLevel(
            logging.INFO if log else logging.WARNING)
        typer.echo(f"Serving {', '.join(f'{n} ({opened[n].url})' for n in opened)} on "
                   f"http://{host}:{port}/api/v1/ledgers/NAME (docs: /api/docs); Ctrl-C "
                   "stops.", err=True)
        uvicorn.run(create_app(opened), host=host, port=port, log_level="warning",
                    access_log=False)
    finally:
        for book in opened.values():
            book.close()


@token_app.command("create", epilog=common.EXIT_CODES)
def create(
    role: Annotated[str, typer.Option("--role", metavar=ROLES, help="What the token may "
                                      "do; each role may do what the ones before it may.")],
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="A name to "
                                             "know it by (default: role-id).")] = None,
    db: DbOption = None,
) -> None:
    """Make a token: its secret is printed on stdout, this once (the ledger keeps only its
    hash).

    \b
    Example:
      TOKEN=$(backflush token create --role operator --name mes --db sqlite:///plant.db)
    """
    from backflush.service_layer.access import create_token

    with common.opened(db) as book:
        made = common.write(lambda: create_token(book.unit_of_work(), role, name))
    t = made.token
    typer.echo(f"Made token {t.id} ({shown(t.name, markup=False)}, {t.role}); its secret "
               "follows, shown this once:", err=True)
    typer.echo(made.secret)


@token_app.command("list", epilog=common.EXIT_CODES)
def list_(db: DbOption = None) -> None:
    """List the tokens (never their secrets).

    \b
    Example:
      backflush token list --db sqlite:///plant.db
    """
    from backflush.entrypoints.output import console as console_
    from backflush.entrypoints.output.tables import Column, Report, print_report
    from backflush.service_layer.access import list_tokens

    with common.opened(db) as book:
        found = list_tokens(book.unit_of_work(read_only=True))
    print_report(console_.stdout(), Report(
        "tokens", "API tokens", (Column("id"), Column("name"), Column("role"),
                                 Column("created"), Column("state")),
        [[t.id, t.name, t.role, t.created, "revoked" if t.revoked else "in use"]
         for t in found]))


@token_app.command("revoke", epilog=common.EXIT_CODES)
def revoke(
    key: Annotated[str, typer.Argument(metavar="ID|NAME", help="The token's id or name.")],
    db: DbOption = None,
) -> None:
    """Revoke a token: it is refused from the next request on.

    \b
    Example:
      backflush token revoke mes --db sqlite:///plant.db
    """
    from backflush.service_layer.access import revoke_token

    with common.opened(db) as book:
        token = common.write(lambda: revoke_token(book.unit_of_work(), key))
    typer.echo(f"Revoked token {token.id} ({shown(token.name, markup=False)}, {token.role}).")
