"""Generated plants for the BOM accuracy tests: a component shared by several parents,
completions over count intervals, and counts that show what the floor really used."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

START = date(2026, 11, 2)


def plant(boms: dict[str, dict[str, str]], actual: dict[str, dict[str, str]],
          intervals: int, seed: int = 7, noise: int = 2,
          losses: dict[int, int] | None = None, extra_items: str = "",
          extra_events: str = "") -> str:
    """A scenario: ``boms`` parent -> component -> qty per; the floor uses ``actual`` per
    unit instead (default: the BOM's); every interval (3 days) completes each parent a
    random quantity, then counts every component at stores: what is there, give or take
    ``noise`` units, less ``losses[interval]`` (scrap nobody reported)."""
    rng = random.Random(seed)
    comps = sorted({c for lines in boms.values() for c in lines})
    lines = ["format: 1", "name: generated", "policy: {negative_stock: allow}", "items:"]
    lines += [f"  - {{code: {c}, standard_cost: 1.00}}" for c in comps]
    lines += [f"  - {{code: {p}, conversion_cost: 1.00}}" for p in sorted(boms)]
    lines += [extra_items] if extra_items else []
    lines.append("boms:")
    for p, used in sorted(boms.items()):
        lines.append(f"  {p}: [" + ", ".join(f"{{item: {c}, qty: {q}}}"
                                              for c, q in sorted(used.items())) + "]")
    lines.append("events:")
    on_hand = {c: Decimal(100_000) for c in comps}
    lines += [f"  - {{type: receipt, date: {START}, item: {c}, qty: 100000, unit_price: 1.00,"
              f" id: PO-{c}}}" for c in comps]
    day = START
    for i in range(intervals):
        for p in sorted(boms):
            qty = rng.randint(50, 400)
            lines.append(f"  - {{type: completion, date: {day + timedelta(days=1)}, item: {p},"
                         f" qty: {qty}, id: WO-{i}-{p}}}")
            for c in boms[p]:
                per = Decimal((actual.get(p) or {}).get(c, boms[p][c]))
                on_hand[c] -= per * qty
        day += timedelta(days=3)
        for c in comps:
            on_hand[c] -= (losses or {}).get(i, 0)
            counted = on_hand[c] + rng.randint(-noise, noise)
            on_hand[c] = counted
            lines.append(f"  - {{type: count, date: {day}, item: {c}, qty: {counted}, "
                         f"id: CC-{i}-{c}}}")
    if extra_events:
        lines.append(extra_events)
    return "\n".join(lines) + "\n"


SHARED = {"CHAIR": {"BOLT": "4"}, "STOOL": {"BOLT": "3"}, "TABLE": {"BOLT": "8"}}
WRONG = {"STOOL": {"BOLT": "3.5"}}  # the floor uses 3.5 a stool, the BOM says 3
