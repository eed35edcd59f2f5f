"""The two consoles (reports on stdout, messages on stderr) and how problems are listed.

Messages go to stderr so that ``backflush report ... --format csv > tb.csv`` and
``run --json | jq`` get only the document on stdout. Both consoles have emoji codes and
highlighting off (``:cmd:`` stays as typed; a code is not recoloured because it looks like a
number) and soft wrapping on (a message stays one line in a log).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console

from backflush.domain.errors import Problem
from backflush.entrypoints.output.safety import shown

LISTED = 50  # problems printed; the rest are counted


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True, emoji=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout. Decimals are already strings in ``doc``; ASCII-only
    output escapes every control or bidirectional character the text may hold."""
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def print_problems(console: Console, title: str, problems: Iterable[Problem | str],
                   more: int = 0) -> None:
    """``title`` (ours, may hold markup) and one line per problem, each shown safely; the
    problems beyond :data:`LISTED` and ``more`` (those the reader counted but did not keep)
    are summed up as ``... and N more``."""
    console.print(f"[bold red]{title}[/]")
    listed = list(problems)
    for p in listed[:LISTED]:
        console.print(f"  [red]x[/] {shown(p)}")
    extra = max(len(listed) - LISTED, 0) + more
    if extra:
        console.print(f"  ... and {extra} more")
