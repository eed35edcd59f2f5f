"""``generate``: a synthetic plant written as files that ``init``, ``import`` and ``post``
read (see :mod:`backflush.adapters.synthetic`). It writes files only; no ledger is touched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backflush.entrypoints.cli.common import OptionError
from backflush.entrypoints.output.safety import shown


def generate(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write the plant's "
                                        "files into (created if need be).")],
    items: Annotated[int, typer.Option("--items", metavar="N", help="Number of items.")]
        = 200,
    depth: Annotated[int, typer.Option("--depth", metavar="D", help="BOM levels of made "
                                       "items (1-10).")] = 3,
    fan_out: Annotated[int, typer.Option("--fan-out", metavar="K", help="Components per "
                                         "BOM.")] = 5,
    phantom_share: Annotated[float, typer.Option(
        "--phantom-share", help="Share of intermediate items that are phantoms, in [0, 1).")]
        = 0.1,
    scrap_share: Annotated[float, typer.Option(
        "--scrap-share", help="Share of BOM lines with a scrap factor, in [0, 1].")] = 0.2,
    events: Annotated[int, typer.Option("--events", metavar="E", help="Number of events.")]
        = 10_000,
    seed: Annotated[int, typer.Option("--seed", metavar="S", help="Random seed: the same "
                                      "seed writes the same files.")] = 1,
) -> None:
    """Write a synthetic plant (CSV master data and JSON Lines events) to import and post.

    \b
    Example:
      backflush generate plant --items 500 --depth 4 --events 100000 --seed 7
    """
    from backflush.adapters.synthetic import PlantSpec
    from backflush.adapters.synthetic import generate as write_plant

    spec = PlantSpec(items, depth, fan_out, phantom_share, scrap_share, events=events,
                     seed=seed)
    problems = spec.check()
    if problems:
        raise OptionError("generate", "; ".join(problems))
    if folder.exists() and not folder.is_dir():
        raise OptionError("DIR", f"{shown(str(folder), markup=False)} is a file, not a folder")
    if not folder.exists() and not folder.parent.is_dir():
        raise OptionError("DIR", f"the folder {shown(str(folder.parent), markup=False)} does "
                          "not exist")
    written = write_plant(spec, folder, lambda n: typer.echo(f"  {n:,} events written", err=True))
    typer.echo(f"Wrote {written.items} items, {written.bom_lines} BOM lines and "
               f"{written.events} events to {shown(folder, markup=False)}:")
    for path in written.files:
        typer.echo(f"  {shown(path, markup=False)}")
    typer.echo("Load them with: backflush init --as-of 2026-11-01; backflush import "
               "work-centers|items|routings|boms FILE; backflush post events.jsonl")
