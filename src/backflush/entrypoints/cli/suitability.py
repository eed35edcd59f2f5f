"""The options of ``backflush report suitability``: each check's threshold, read as exact
text (never a binary float) and refused (exit 2) when it is not a number in range."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from backflush.entrypoints.cli.common import OptionError

if TYPE_CHECKING:
    from backflush.service_layer.suitability import Thresholds

HELP = "suitability only: "
MinTurnover = Annotated[str | None, typer.Option(
    "--min-turnover", metavar="TURNS", help=HELP + "inventory turns a year below which "
    "turnover is slow (default 12).")]
MaxCycleDays = Annotated[str | None, typer.Option(
    "--max-cycle-days", metavar="DAYS", help=HELP + "days from release to completion beyond "
    "which an order is slow, and an open one is work in process (default 5).")]
MinCompletions = Annotated[str | None, typer.Option(
    "--min-completions", metavar="N", help=HELP + "a made item completed fewer times is "
    "customised (default 2).")]
MaxBomVersions = Annotated[str | None, typer.Option(
    "--max-bom-versions", metavar="N", help=HELP + "a made item with more BOM versions is "
    "customised (default 3).")]
MaxCountDifference = Annotated[str | None, typer.Option(
    "--max-count-difference", metavar="SHARE", help=HELP + "a count differing from the book "
    "by more than this share of it is large (default 0.05).")]
MaxScrapRate = Annotated[str | None, typer.Option(
    "--max-scrap-rate", metavar="RATE", help=HELP + "scrapped ÷ (good + scrapped) beyond "
    "which scrap distorts backflushed usage (default 0.05).")]


def thresholds(**given: str | None) -> Thresholds:
    """The defaults with the thresholds given by option; OptionError names the option of a
    bad value."""
    from backflush.domain.errors import NumberError
    from backflush.service_layer.suitability import thresholds_of

    try:
        return thresholds_of(given)
    except NumberError as exc:
        name = exc.field or next(iter(given))
        raise OptionError("--" + name.replace("_", "-"),
                          str(exc).removeprefix(f"{name}: ")) from None


def given_any(**given: str | None) -> str | None:
    """The first threshold option given (for refusing it on another report)."""
    for name, value in given.items():
        if value is not None:
            return "--" + name.replace("_", "-")
    return None
