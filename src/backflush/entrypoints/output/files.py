"""Writing an output file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_text(path: Path, text: str) -> None:
    replace(path, lambda fh: fh.write(text), binary=False)


def replace(path: Path, write: Callable[[IO[Any]], object], *, binary: bool) -> None:
    """Write a file beside ``path`` and rename it over ``path`` once complete: a failure
    never leaves half a report behind, nor spoils the file that was there."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        fh = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            write(fh)
        mask = os.umask(0)  # (mkstemp made it private: give it the mode a new file gets)
        os.umask(mask)
        os.chmod(temp, 0o666 & ~mask)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
