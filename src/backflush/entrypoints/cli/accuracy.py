"""``report bom-accuracy --tolerance``: the share of the standard usage beyond which a BOM
line is flagged."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from backflush.entrypoints.cli.common import OptionError
from backflush.entrypoints.output.safety import shown

Tolerance = Annotated[str | None, typer.Option(
    "--tolerance", metavar="SHARE", help="bom-accuracy only: flag a BOM line whose estimated "
    "usage differs from its standard usage by more than this share of it (0.05 or 5%; "
    "default: the policy's count_tolerance).")]


def tolerance_of(text: str | None) -> Decimal | None:
    """``0.05`` or ``5%`` as the share 0.05 (exit 2 when it is not a share from 0 to 1)."""
    if text is None:
        return None
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = Decimal(raw[:-1].strip() if percent else raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise OptionError("--tolerance", f"expected a share such as 0.05 or 5%, got "
                          f"{shown(repr(text), markup=False)}")
    share = value / 100 if percent else value
    if not 0 <= share <= 1:
        raise OptionError("--tolerance", f"must be from 0 to 1 (0% to 100%), got "
                          f"{shown(repr(text), markup=False)}")
    return share
