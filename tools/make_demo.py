#!/usr/bin/env python3
"""Generate the demo scenario ``src/backflush/data/demo.yaml``.

The demo is an office-chair plant for November 2026 (scenario format 1, see
``scenario-format.md``). The script is deterministic: every random choice comes from one
``random.Random`` with a fixed seed, and all arithmetic is done in ``Decimal``.

Besides writing the scenario, the generator keeps its own stock simulation:

* BOOK stock   = opening + receipts - backflush at the standard BOM
                 (qty x qty_per x (1 + scrap), exploded through the phantom, for good and
                 scrapped units) + completions of stocked made items - sales;
* TRUE stock   = the same, but with the real physical consumption, in which one BOM line is
                 understated (``BASE-KIT`` -> ``CASTER-50``: the BOM says 5 casters per base,
                 the line really uses 5.25 on average because of unreported breakage).

The month-end counts report the TRUE physical quantity (plus a small +-1 % miscount or
shrinkage on a few other items), so the engine's count posting should reveal the wrong line.

Usage: ``python tools/make_demo.py`` (writes the file and prints a summary).
Only the standard library and PyYAML (for the final self-check) are used.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

SEED = 20261101
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "backflush" / "data" / "demo.yaml"

D = Decimal
ZERO = D(0)
CENT = D("0.01")
LOCATION = "stores"
# The line-side supermarket: gas lifts are backflushed from it, refilled from stores in
# containers of 20 on a kanban signal; a completion short there parks its issue (queue).
LINE = "line-1"
KANBAN = {"GAS-LIFT": (D(20), D(1), D("0.2"))}  # item -> container, lead days, safety
LATE_DAY = dt.date(2026, 11, 18)  # stores bring the morning's gas lifts after the shift

# --------------------------------------------------------------------------------------------
# Master data
# --------------------------------------------------------------------------------------------

# code, uom, standard cost (USD), description, supplier
PURCHASED: list[tuple[str, str, str, str, str]] = [
    ("GAS-LIFT", "ea", "9.85", "gas lift cylinder, class 3, 100 mm stroke", "Hydrolift GmbH"),
    ("CASTER-50", "ea", "0.62", "twin-wheel caster 50 mm, 11 mm stem", "Rolling Parts Co."),
    ("BASE-NYL", "ea", "7.40", "5-star nylon base 660 mm", "Polymold Industries"),
    ("FOAM-SEAT", "ea", "4.15", "moulded PU seat foam 45 kg/m3", "Comfort Foam LLC"),
    ("FOAM-BACK", "ea", "3.20", "moulded PU back foam 35 kg/m3", "Comfort Foam LLC"),
    ("FAB-BLK", "m", "6.80", "upholstery fabric black, 140 cm wide", "Textura Mills"),
    ("FAB-GRY", "m", "7.25", "upholstery fabric grey melange, 140 cm wide", "Textura Mills"),
    ("MESH-BLK", "m", "8.90", "elastomeric back mesh black, 150 cm wide", "Textura Mills"),
    ("PLY-SEAT", "ea", "3.45", "plywood seat pan 12 mm, pre-drilled", "Northwood Panels"),
    ("PLY-BACK", "ea", "2.95", "plywood back panel 9 mm, pre-drilled", "Northwood Panels"),
    ("MECH-SYNC", "ea", "18.50", "synchro-tilt mechanism with seat slide", "Mechanix Ltd"),
    ("MECH-TILT", "ea", "9.20", "centre-tilt mechanism", "Mechanix Ltd"),
    ("ARM-FIX", "ea", "4.10", "fixed loop armrest (one side)", "Polymold Industries"),
    ("ARM-ADJ", "ea", "11.75", "3D adjustable armrest (one side)", "Mechanix Ltd"),
    ("SCR-M6", "ea", "0.04", "screw M6x20, zinc plated", "FastenAll Supply"),
    ("BOLT-M8", "ea", "0.09", "hex socket bolt M8x25", "FastenAll Supply"),
    ("WASH-M8", "ea", "0.03", "washer M8", "FastenAll Supply"),
    ("TNUT-M6", "ea", "0.05", "T-nut M6 for plywood", "FastenAll Supply"),
    ("BACK-FRAME", "ea", "6.30", "glass-filled nylon frame, mesh back", "Polymold Industries"),
    ("LUMBAR", "ea", "2.85", "height-adjustable lumbar pad", "Polymold Industries"),
    ("HEADREST", "ea", "8.40", "adjustable headrest with bracket", "Mechanix Ltd"),
    ("SEAT-SHELL", "ea", "1.75", "plastic seat underside cover", "Polymold Industries"),
    ("BACK-COVER", "ea", "2.40", "plastic back cover", "Polymold Industries"),
    ("BOX-CHAIR", "ea", "2.60", "corrugated shipping carton, chair size", "BoxCraft Packaging"),
    ("POLY-BAG", "ea", "0.18", "polyethylene dust bag", "BoxCraft Packaging"),
    ("MANUAL", "ea", "0.12", "assembly manual and warranty card", "PrintPoint"),
    ("LABEL", "ea", "0.08", "product / BIFMA compliance label", "PrintPoint"),
]

# code, description, explicit conversion cost (or None when the routing gives it), phantom
MADE: list[tuple[str, str, str | None, bool]] = [
    ("BASE-KIT", "phantom: nylon base + 5 casters + gas lift, built at the line", None, True),
    ("CUSH-SEAT", "seat cushion: plywood pan + foam + T-nuts (stocked)", None, False),
    ("CUSH-BACK", "back cushion: plywood panel + foam + T-nuts (stocked)", None, False),
    ("SEAT-FAB-BLK", "upholstered seat assembly, black fabric (stocked)", None, False),
    ("SEAT-FAB-GRY", "upholstered seat assembly, grey fabric (stocked)", None, False),
    ("BACK-FAB-BLK", "upholstered back assembly, black fabric (stocked)", None, False),
    ("BACK-FAB-GRY", "upholstered back assembly, grey fabric (stocked)", None, False),
    ("BACK-MESH", "mesh back assembly (stocked; explicit conversion cost)", "6.50", False),
    ("CH-TASK", "finished: Task chair, black fabric, centre-tilt", None, False),
    ("CH-MESH", "finished: Mesh office chair, synchro, 3D arms", None, False),
    ("CH-EXEC", "finished: Executive chair, grey fabric, headrest", None, False),
    ("CH-CONF", "finished: Conference chair, grey fabric, fixed arms", None, False),
]
FINISHED = ["CH-TASK", "CH-MESH", "CH-EXEC", "CH-CONF"]
PHANTOM = "BASE-KIT"

# parent -> [(component, qty per, scrap factor)]
BOMS: dict[str, list[tuple[str, str, str]]] = {
    "BASE-KIT": [("BASE-NYL", "1", "0"), ("CASTER-50", "5", "0"), ("GAS-LIFT", "1", "0")],
    "CUSH-SEAT": [("PLY-SEAT", "1", "0"), ("FOAM-SEAT", "1", "0.02"), ("TNUT-M6", "4", "0")],
    "CUSH-BACK": [("PLY-BACK", "1", "0"), ("FOAM-BACK", "1", "0.02"), ("TNUT-M6", "4", "0")],
    "SEAT-FAB-BLK": [
        ("CUSH-SEAT", "1", "0"),
        ("FAB-BLK", "0.9", "0.05"),
        ("SEAT-SHELL", "1", "0"),
        ("SCR-M6", "4", "0.02"),
    ],
    "SEAT-FAB-GRY": [
        ("CUSH-SEAT", "1", "0"),
        ("FAB-GRY", "0.9", "0.05"),
        ("SEAT-SHELL", "1", "0"),
        ("SCR-M6", "4", "0.02"),
    ],
    "BACK-FAB-BLK": [
        ("CUSH-BACK", "1", "0"),
        ("FAB-BLK", "0.7", "0.05"),
        ("BACK-COVER", "1", "0"),
        ("SCR-M6", "4", "0.02"),
    ],
    "BACK-FAB-GRY": [
        ("CUSH-BACK", "1", "0"),
        ("FAB-GRY", "0.7", "0.05"),
        ("BACK-COVER", "1", "0"),
        ("SCR-M6", "4", "0.02"),
    ],
    "BACK-MESH": [("BACK-FRAME", "1", "0"), ("MESH-BLK", "0.85", "0.03"), ("LUMBAR", "1", "0")],
    "CH-TASK": [
        ("SEAT-FAB-BLK", "1", "0"),
        ("BACK-FAB-BLK", "1", "0"),
        ("BASE-KIT", "1", "0"),
        ("MECH-TILT", "1", "0"),
        ("ARM-FIX", "2", "0"),
        ("BOLT-M8", "8", "0.02"),
        ("WASH-M8", "8", "0"),
        ("BOX-CHAIR", "1", "0"),
        ("POLY-BAG", "1", "0"),
        ("MANUAL", "1", "0"),
        ("LABEL", "1", "0"),
    ],
    "CH-MESH": [
        ("SEAT-FAB-BLK", "1", "0"),
        ("BACK-MESH", "1", "0"),
        ("BASE-KIT", "1", "0"),
        ("MECH-SYNC", "1", "0"),
        ("ARM-ADJ", "2", "0"),
        ("BOLT-M8", "10", "0.02"),
        ("WASH-M8", "10", "0"),
        ("BOX-CHAIR", "1", "0"),
        ("POLY-BAG", "1", "0"),
        ("MANUAL", "1", "0"),
        ("LABEL", "1", "0"),
    ],
    "CH-EXEC": [
        ("SEAT-FAB-GRY", "1", "0"),
        ("BACK-FAB-GRY", "1", "0"),
        ("BASE-KIT", "1", "0"),
        ("MECH-SYNC", "1", "0"),
        ("ARM-ADJ", "2", "0"),
        ("HEADREST", "1", "0"),
        ("BOLT-M8", "12", "0.02"),
        ("WASH-M8", "12", "0"),
        ("BOX-CHAIR", "1", "0"),
        ("POLY-BAG", "1", "0"),
        ("MANUAL", "1", "0"),
        ("LABEL", "1", "0"),
    ],
    "CH-CONF": [
        ("SEAT-FAB-GRY", "1", "0"),
        ("BACK-FAB-GRY", "1", "0"),
        ("BASE-KIT", "1", "0"),
        ("MECH-TILT", "1", "0"),
        ("ARM-FIX", "2", "0"),
        ("BOLT-M8", "8", "0.02"),
        ("WASH-M8", "8", "0"),
        ("BOX-CHAIR", "1", "0"),
        ("POLY-BAG", "1", "0"),
        ("MANUAL", "1", "0"),
        ("LABEL", "1", "0"),
    ],
}

# The understated BOM line: (parent, component, BOM qty per, TRUE average qty per)
WRONG_LINE = ("BASE-KIT", "CASTER-50", D("5"), D("5.25"))

# code -> (rate) or (labor_rate, overhead_rate), USD per hour
WORK_CENTERS: list[tuple[str, str | None, str | None, str | None, str]] = [
    # code, rate, labor_rate, overhead_rate, description
    ("CUT", "48.00", None, None, "foam and fabric cutting (CNC knife)"),
    ("SEW", None, "27.50", "34.00", "sewing and upholstery"),
    ("ASSY", None, "26.00", "39.50", "cushion gluing and final chair assembly"),
    ("PACK", "36.00", None, None, "inspection and packing"),
]
# Element split used to phrase the actual conversion cost of single-rate work centers and of
# explicit conversion costs as labor vs overhead (the actuals are booked by element).
SINGLE_RATE_LABOR_SHARE = D("0.40")

# item -> [(operation, work center, run hours per unit, setup hours, lot size)]
ROUTINGS: dict[str, list[tuple[int, str, str, str, int]]] = {
    "CUSH-SEAT": [(10, "CUT", "0.05", "0.5", 100), (20, "ASSY", "0.04", "0.25", 100)],
    "CUSH-BACK": [(10, "CUT", "0.04", "0.5", 100), (20, "ASSY", "0.03", "0.25", 100)],
    "SEAT-FAB-BLK": [(10, "CUT", "0.03", "0.25", 100), (20, "SEW", "0.12", "0.5", 100)],
    "SEAT-FAB-GRY": [(10, "CUT", "0.03", "0.25", 100), (20, "SEW", "0.12", "0.5", 100)],
    "BACK-FAB-BLK": [(10, "CUT", "0.03", "0.25", 100), (20, "SEW", "0.10", "0.5", 100)],
    "BACK-FAB-GRY": [(10, "CUT", "0.03", "0.25", 100), (20, "SEW", "0.10", "0.5", 100)],
    "CH-TASK": [(10, "ASSY", "0.25", "0.5", 50), (20, "PACK", "0.08", "0.25", 50)],
    "CH-MESH": [(10, "ASSY", "0.30", "0.5", 50), (20, "PACK", "0.08", "0.25", 50)],
    "CH-EXEC": [(10, "ASSY", "0.40", "0.5", 25), (20, "PACK", "0.10", "0.25", 25)],
    "CH-CONF": [(10, "ASSY", "0.22", "0.5", 50), (20, "PACK", "0.08", "0.25", 50)],
}

# Nominal daily output of finished chairs (good units)
DAILY_PLAN = {"CH-TASK": 45, "CH-MESH": 35, "CH-EXEC": 14, "CH-CONF": 24}
# Completions per day for each chair model (two shifts for the big runners)
SHIFTS = {"CH-TASK": 2, "CH-MESH": 2, "CH-EXEC": 1, "CH-CONF": 1}

CUSTOMERS = [
    "Officeworks Dealer Network",
    "Metro Office Interiors",
    "Campus Furnishing Inc.",
    "DeskPro Online",
    "Harbor Business Supply",
    "Summit Workplace Solutions",
    "BlueLine Contract Furniture",
    "City Hall Procurement",
]
DISCOUNTS = [D("0"), D("0"), D("0.03"), D("0.05")]

# month-end counts: item -> physical miscount/shrinkage factor on top of TRUE stock
COUNTED: dict[str, Decimal] = {
    "CASTER-50": D("1"),
    "GAS-LIFT": D("1"),
    "BASE-NYL": D("1"),
    "MECH-TILT": D("1"),
    "MECH-SYNC": D("1"),
    "ARM-ADJ": D("1"),
    "FOAM-SEAT": D("1"),
    "BOX-CHAIR": D("1"),
    "BOLT-M8": D("0.99"),  # shrinkage, about -1 %
    "FAB-GRY": D("1.008"),  # remnants not booked back, about +0.8 %
    "TNUT-M6": D("0.991"),  # about -0.9 %
}

MONTH_START = dt.date(2026, 11, 1)
MONTH_END = dt.date(2026, 11, 30)
WORK_DAYS = [
    MONTH_START + dt.timedelta(days=i)
    for i in range(30)
    if (MONTH_START + dt.timedelta(days=i)).weekday() < 5
]
CONVERSION_DAYS = [d for d in WORK_DAYS if d.weekday() == 4] + [MONTH_END]  # Fridays + 30th


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def fmt(x: Decimal, places: int | None = None) -> str:
    """Exact, readable decimal text (no exponent, no binary float)."""
    if places is not None:
        x = x.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return f"{x:.{places}f}"
    s = f"{x.normalize():f}"
    return s if s not in ("-0",) else "0"


def money(x: Decimal) -> str:
    return fmt(x, 2)


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


UOM = {c: u for c, u, *_ in PURCHASED} | {c: "ea" for c, *_ in MADE}
STD = {c: D(s) for c, _, s, _, _ in PURCHASED}
SUPPLIER = {c: sup for c, _, _, _, sup in PURCHASED}
EXPLICIT_CONV = {c: D(cc) for c, _, cc, _ in MADE if cc is not None}
MADE_CODES = [c for c, *_ in MADE]
WC = {c: (r, lr, orr) for c, r, lr, orr, _ in WORK_CENTERS}


def wc_rates(code: str) -> tuple[Decimal, Decimal]:
    """(labor, overhead) per hour; single rate split by SINGLE_RATE_LABOR_SHARE."""
    rate, lr, orr = WC[code]
    if rate is not None:
        r = D(rate)
        return r * SINGLE_RATE_LABOR_SHARE, r * (1 - SINGLE_RATE_LABOR_SHARE)
    assert lr is not None and orr is not None
    return D(lr), D(orr)


def conversion_per_unit(item: str) -> tuple[Decimal, Decimal]:
    """Standard own-level conversion per unit as (labor, overhead), unrounded."""
    if item in EXPLICIT_CONV:
        c = EXPLICIT_CONV[item]
        return c * SINGLE_RATE_LABOR_SHARE, c * (1 - SINGLE_RATE_LABOR_SHARE)
    lab = ovh = ZERO
    for _, wc, run, setup, lot in ROUTINGS.get(item, []):
        hours = D(run) + D(setup) / D(lot)
        lr, orr = wc_rates(wc)
        lab += hours * lr
        ovh += hours * orr
    return lab, ovh


def std_cost(item: str, _memo: dict[str, Decimal] = {}) -> Decimal:  # noqa: B006
    """Full standard cost per unit (material roll-up + own conversion), unrounded."""
    if item in STD:
        return STD[item]
    if item not in _memo:
        mat = sum((D(q) * (1 + D(s)) * std_cost(c) for c, q, s in BOMS[item]), ZERO)
        lab, ovh = conversion_per_unit(item)
        _memo[item] = mat + lab + ovh
    return _memo[item]


def explode(item: str, qty: Decimal) -> dict[str, Decimal]:
    """One-level backflush of ``qty`` units of ``item`` at standard, through phantoms."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for comp, qper, scrap in BOMS[item]:
        need = qty * D(qper) * (1 + D(scrap))
        if comp == PHANTOM:
            for c2, n2 in explode(comp, need).items():
                out[c2] += n2
        else:
            out[comp] += need
    return out


def level_of(item: str, _memo: dict[str, int] = {}) -> int:  # noqa: B006
    """Low-level code: 0 for finished goods, deeper components get higher numbers."""
    if item not in _memo:
        parents = [p for p, lines in BOMS.items() if any(c == item for c, _, _ in lines)]
        _memo[item] = 0 if not parents else 1 + max(level_of(p) for p in parents)
    return _memo[item]


STOCKED_SUBS = [c for c in MADE_CODES if c not in FINISHED and c != PHANTOM]
# build order: deepest first (cushions before seat/back assemblies before chairs)
BUILD_ORDER = sorted(STOCKED_SUBS, key=lambda c: -level_of(c))


# --------------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------------


class Sim:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.book: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.true: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.events: list[dict[str, object]] = []
        self.ids: Counter[str] = Counter()
        self.kits_built = 0  # BASE-KITs consumed (good + scrapped chairs)
        self.extra_casters = 0  # unreported caster breakage so far
        self.applied_good = ZERO  # standard conversion on good units
        self.applied_scrap = ZERO  # standard conversion on scrapped units
        self.week_applied = ZERO
        self.week_applied_lab = ZERO
        self.week_applied_ovh = ZERO
        self.incurred = ZERO
        self.min_book: dict[str, Decimal] = {}
        self.min_true: dict[str, Decimal] = {}
        self.opening: dict[str, Decimal] = {}
        self.produced: Counter[str] = Counter()
        self.sold: Counter[str] = Counter()
        self.at_line: dict[str, Decimal] = defaultdict(lambda: ZERO)  # supermarket stock

    def next_id(self, prefix: str) -> str:
        self.ids[prefix] += 1
        return f"{prefix}-{self.ids[prefix]:04d}"

    # ---- demand estimates -------------------------------------------------------------------
    def avg_daily_need(self) -> dict[str, Decimal]:
        """Average daily purchased-part need (true basis) at the nominal plan."""
        need: dict[str, Decimal] = defaultdict(lambda: ZERO)
        sub_need: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for ch, n in DAILY_PLAN.items():
            for c, q in explode(ch, D(n)).items():
                (sub_need if c in STOCKED_SUBS else need)[c] += q
        for sub in sorted(STOCKED_SUBS, key=level_of):  # parents before their components
            for c, q in explode(sub, sub_need[sub]).items():
                (sub_need if c in STOCKED_SUBS else need)[c] += q
        kits = sum(DAILY_PLAN.values())
        need[WRONG_LINE[1]] += D(kits) * (WRONG_LINE[3] - WRONG_LINE[2])
        return need

    # ---- physical movements ------------------------------------------------------------------
    def consume(self, item: str, qty: int) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """Book and true consumption for building ``qty`` (good + scrapped) of ``item``."""
        book = dict(explode(item, D(qty)))
        true = dict(book)
        if any(c == PHANTOM for c, _, _ in BOMS[item]):
            kits = sum(D(q) * (1 + D(s)) for c, q, s in BOMS[item] if c == PHANTOM) * qty
            assert kits == int(kits)
            self.kits_built += int(kits)
            # cumulative breakage keeps the TRUE average at exactly 5.25 casters per kit
            target = (D(self.kits_built) * (WRONG_LINE[3] - WRONG_LINE[2])).to_integral_value(
                rounding=ROUND_FLOOR
            )
            extra = int(target) - self.extra_casters
            self.extra_casters += extra
            true[WRONG_LINE[1]] = true.get(WRONG_LINE[1], ZERO) + extra
        return book, true

    def move(self, item: str, book_delta: Decimal, true_delta: Decimal) -> None:
        self.book[item] += book_delta
        self.true[item] += true_delta
        self.min_book[item] = min(self.min_book.get(item, self.book[item]), self.book[item])
        self.min_true[item] = min(self.min_true.get(item, self.true[item]), self.true[item])

    # ---- events -----------------------------------------------------------------------------
    def receipt(self, day: dt.date, item: str, qty: Decimal) -> None:
        std = STD[item]
        r = self.rng.random()
        if r < 0.55:
            dev = ZERO
        else:
            dev = D(self.rng.choice([-35, -25, -15, -10, 10, 15, 20, 30, 40, 50])) / D(1000)
        places = 2 if std >= 1 else 4
        price = (std * (1 + dev)).quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)
        self.move(item, qty, qty)
        self.events.append(
            {
                "type": "receipt",
                "date": day,
                "item": item,
                "qty": qty,
                "unit_price": Num(fmt(price, places)),
                "supplier": SUPPLIER[item],
                "id": self.next_id("PO"),
            }
        )

    def release(self, day: dt.date, item: str, qty: int) -> str:
        order = self.next_id("MO")
        self.events.append({"type": "release", "date": day, "item": item, "qty": qty,
                            "due": day, "id": order})
        return order

    def replenish(self, day: dt.date, item: str, need: Decimal) -> Decimal:
        """The kanban signal for what the supermarket lacks for ``need``, in containers."""
        container = KANBAN[item][0]
        short = need - self.at_line[item]
        if short <= 0:
            return ZERO
        qty = (short / container).to_integral_value(rounding=ROUND_CEILING) * container
        self.events.append({"type": "signal", "date": day, "item": item, "location": LINE,
                            "qty": qty, "id": self.next_id("KB")})
        return qty

    def transfer(self, day: dt.date, item: str, qty: Decimal) -> None:
        self.at_line[item] += qty
        self.events.append({"type": "transfer", "date": day, "item": item, "qty": qty,
                            "from": LOCATION, "to": LINE, "id": self.next_id("TR")})

    def completion(self, day: dt.date, item: str, good: int, scrap: int,
                   order: str = "") -> None:
        book, true = self.consume(item, good + scrap)
        for c in KANBAN:
            self.at_line[c] -= book.get(c, ZERO)
        for c in sorted(set(book) | set(true)):
            self.move(c, -book.get(c, ZERO), -true.get(c, ZERO))
        self.move(item, D(good), D(good))
        self.produced[item] += good
        lab, ovh = conversion_per_unit(item)
        self.applied_good += (lab + ovh) * good
        self.applied_scrap += (lab + ovh) * scrap
        self.week_applied += (lab + ovh) * good
        self.week_applied_lab += lab * good
        self.week_applied_ovh += ovh * good
        ev: dict[str, object] = {"type": "completion", "date": day, "item": item, "qty": good}
        if scrap:
            ev["scrap_qty"] = scrap
        if order:
            ev["order"] = order
        ev["id"] = self.next_id("WO")
        self.events.append(ev)

    def sale(self, day: dt.date, item: str, qty: int, price: Decimal, customer: str) -> None:
        assert self.book[item] >= qty, (day, item, qty, self.book[item])
        self.move(item, D(-qty), D(-qty))
        self.sold[item] += qty
        self.events.append(
            {
                "type": "sale",
                "date": day,
                "item": item,
                "qty": qty,
                "unit_price": Num(money(price)),
                "customer": customer,
                "id": self.next_id("SO"),
            }
        )

    def conversion(self, day: dt.date) -> None:
        factor = D(self.rng.choice([1030, 1035, 1040, 1045, 1050, 1055])) / D(1000)
        lab = q2(self.week_applied_lab * factor * D(self.rng.choice([97, 99, 101, 103])) / 100)
        total = q2(self.week_applied * factor)
        ovh = total - lab
        for element, amount in (("labor", lab), ("overhead", ovh)):
            self.events.append(
                {
                    "type": "conversion_incurred",
                    "date": day,
                    "amount": Num(money(amount)),
                    "element": element,
                    "id": self.next_id("CV"),
                }
            )
            self.incurred += amount
        self.week_applied = self.week_applied_lab = self.week_applied_ovh = ZERO

    # ---- the month -------------------------------------------------------------------------
    def run(self) -> None:
        rng = self.rng
        avg = self.avg_daily_need()
        # opening stock: 4 to 7 days of average need, rounded up to a pack
        for code, *_ in PURCHASED:
            days = D(rng.choice([4, 5, 6, 7]))
            pack = pack_size(avg[code])
            qty = (avg[code] * days / pack).to_integral_value(rounding=ROUND_CEILING) * pack
            self.opening[code] = qty
            self.move(code, qty, qty)

        list_price = {
            ch: (std_cost(ch) * D("1.95")).quantize(D(1), rounding=ROUND_HALF_UP) - CENT
            for ch in FINISHED
        }
        self.list_price = list_price

        for day in WORK_DAYS:
            # 1. plan the day's chair output (good, scrapped) per completion event
            chair_runs: list[tuple[str, int, int]] = []
            for ch in FINISHED:
                total = DAILY_PLAN[ch] + rng.randint(-4, 4) * max(1, DAILY_PLAN[ch] // 15)
                shifts = SHIFTS[ch]
                for s in range(shifts):
                    good = total // shifts + (1 if s < total % shifts else 0)
                    scrap = rng.choice([1, 1, 2]) if rng.random() < 0.12 else 0
                    chair_runs.append((ch, good, scrap))
            # 2. plan subassembly completions: cover today's need + a buffer of about a day
            sub_need: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for ch, good, scrap in chair_runs:
                for c, q in explode(ch, D(good + scrap)).items():
                    if c in STOCKED_SUBS:
                        sub_need[c] += q
            sub_runs: dict[str, tuple[int, int]] = {}
            for sub in sorted(STOCKED_SUBS, key=level_of):  # top-down, parents first
                buffer = sub_need[sub] * D("0.8")
                short = sub_need[sub] + buffer - self.book[sub]
                if short > 0:
                    good = int((short / 10).to_integral_value(rounding=ROUND_CEILING)) * 10
                    scrap = rng.randint(1, 3) if rng.random() < 0.15 else 0
                    sub_runs[sub] = (good, scrap)
                    for c, q in explode(sub, D(good + scrap)).items():
                        if c in STOCKED_SUBS:
                            sub_need[c] += q
            # 3. purchased-part requirement of the day (book and true)
            need_book: dict[str, Decimal] = defaultdict(lambda: ZERO)
            need_true: dict[str, Decimal] = defaultdict(lambda: ZERO)
            saved = (self.kits_built, self.extra_casters)
            for item, good, scrap in [(s, g, x) for s, (g, x) in sub_runs.items()] + chair_runs:
                b, t = self.consume(item, good + scrap)
                for c, q in b.items():
                    need_book[c] += q
                for c, q in t.items():
                    need_true[c] += q
            self.kits_built, self.extra_casters = saved
            # 4. receipts: keep min(book, true) above ~2 days of need after today's use
            for code, *_ in PURCHASED:
                after = min(self.book[code] - need_book[code], self.true[code] - need_true[code])
                if after < avg[code] * 2:
                    pack = pack_size(avg[code])
                    want = avg[code] * D(rng.choice([4, 5, 6])) - after
                    qty = (want / pack).to_integral_value(rounding=ROUND_CEILING) * pack
                    self.receipt(day, code, qty)
            # 5. the chair runs released as orders; the kanban card for the gas lifts they
            #    need, filled by a transfer from stores (late on one day: the shift's
            #    completions park what they lack until it comes)
            orders = [self.release(day, ch, good + scrap) for ch, good, scrap in chair_runs]
            sent = self.replenish(day, "GAS-LIFT", need_book["GAS-LIFT"])
            if sent and day != LATE_DAY:
                self.transfer(day, "GAS-LIFT", sent)
            # 6. completions, deepest level first, then the chairs against their orders
            for sub in BUILD_ORDER:
                if sub in sub_runs:
                    good, scrap = sub_runs[sub]
                    self.completion(day, sub, good, scrap)
            for (ch, good, scrap), order in zip(chair_runs, orders, strict=True):
                self.completion(day, ch, good, scrap, order)
            if sent and day == LATE_DAY:
                self.transfer(day, "GAS-LIFT", sent)
            # 7. sales out of finished goods
            for ch in FINISHED:
                demand = int(D(DAILY_PLAN[ch]) * D(rng.randint(82, 104)) / 100)
                orders = rng.randint(1, 4) if DAILY_PLAN[ch] > 20 else rng.randint(1, 2)
                for k in range(orders):
                    qty = demand // orders + (1 if k < demand % orders else 0)
                    qty = min(qty, int(self.book[ch]))
                    if qty <= 0:
                        continue
                    customer = rng.choice(CUSTOMERS)
                    disc = DISCOUNTS[CUSTOMERS.index(customer) % len(DISCOUNTS)]
                    self.sale(day, ch, qty, q2(list_price[ch] * (1 - disc)), customer)
            # 8. weekly actual conversion cost
            if day in CONVERSION_DAYS:
                self.conversion(day)

        # month-end counts (after the last day's activity)
        self.count_rows: list[tuple[str, Decimal, Decimal, Decimal]] = []
        for item, factor in COUNTED.items():
            places = 2 if UOM[item] == "m" else 0
            counted = (self.true[item] * factor).quantize(
                D(1).scaleb(-places), rounding=ROUND_HALF_UP
            )
            self.count_rows.append((item, self.book[item], self.true[item], counted))
            count: dict[str, object] = {"type": "count", "date": MONTH_END, "item": item,
                                        "qty": counted - self.at_line[item]}
            if item in KANBAN:  # counted where it is: stores, and the supermarket
                self.events.append({**count, "id": self.next_id("CC")})
                count = {**count, "qty": self.at_line[item], "location": LINE}
            self.events.append({**count, "id": self.next_id("CC")})
        self.events.append({"type": "close", "period": "2026-11", "id": "CLOSE-2026-11",
                            "gaap_bridge": True})
        self.first_shift_of_december()

    def first_shift_of_december(self) -> None:
        """December 1: two orders released; the first completes before stores refill the
        supermarket, so its gas lifts short there wait in the queue; no card sent yet."""
        day = MONTH_END + dt.timedelta(days=1)
        task = self.release(day, "CH-TASK", 30)
        self.release(day, "CH-MESH", 20)
        self.completion(day, "CH-TASK", 30, 0, task)


def pack_size(daily: Decimal) -> Decimal:
    for limit, pack in ((20, 10), (60, 25), (200, 50), (1000, 100), (5000, 500)):
        if daily < limit:
            return D(pack)
    return D(1000)


# --------------------------------------------------------------------------------------------
# YAML writer (hand-formatted: flow-style maps, exact decimals)
# --------------------------------------------------------------------------------------------


class Num(str):
    """A number already formatted as exact decimal text; written to YAML unquoted."""


def yval(v: object) -> str:
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, Decimal):
        return fmt(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        if _safe_plain(v):
            return v
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(yval(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {yval(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _safe_plain(s: str) -> bool:
    """Plain scalar that YAML reads back as the same string inside a flow map."""
    if not s or s[0] in "-?:,[]{}#&*!|>'\"%@`" or s != s.strip():
        return False
    if any(ch in s for ch in ",[]{}#") or ": " in s or s.endswith(":"):
        return False
    try:
        return bool(yaml.safe_load("{k: " + s + "}") == {"k": s})
    except yaml.YAMLError:
        return False


def write_yaml(sim: Sim) -> str:
    out: list[str] = []
    w = out.append
    n_sub = len(STOCKED_SUBS)
    w("# backflush demo scenario: Comfortline Seating, an office-chair plant, November 2026.")
    w("# Purchased parts -> cushions -> upholstered seat/back assemblies -> 4 chair models;")
    w("# BASE-KIT (base + casters + gas lift) is a phantom built at the final-assembly line.")
    w(
        f"# {len(PURCHASED)} purchased items, {n_sub} stocked subassemblies, 1 phantom, "
        f"{len(FINISHED)} finished chairs."
    )
    w("# Trigger points purchase/completion/sale; conversion inventoried; all variances")
    w("# written off at close. The month-end counts reveal one understated BOM line.")
    w(f"# Gas lifts are backflushed from the line-side supermarket {LINE}: chair runs are")
    w("# released as orders, a kanban card asks stores for what the orders need, a transfer")
    w("# fills it; on one day it comes late and completions queue. December 1 opens with")
    w("# two orders released and one completed short of gas lifts (in the queue).")
    w("#")
    w("# GENERATED by tools/make_demo.py -- do not edit by hand; change the generator and rerun.")
    w("format: 1")
    w("name: Comfortline Seating office-chair plant, November 2026")
    w("currency: USD")
    w("policy:")
    w("  trigger_points: [purchase, completion, sale]")
    w("  conversion: inventoried")
    w(
        "  disposition: {conversion: write_off, purchase_price: write_off, usage: write_off, "
        "scrap: write_off}"
    )
    w("  negative_stock: allow")
    w("kanban:  # line-side supermarket items: container, lead time (days), safety factor")
    for code, (container, lead, safety) in KANBAN.items():
        w(f"  - {{item: {code}, location: {LINE}, container_qty: {fmt(container)}, "
          f"lead_time_days: {fmt(lead)}, safety: {fmt(safety)}}}")
    w("items:")
    w("  # purchased parts (standard cost in USD per unit of measure)")
    item_lines: list[tuple[str, str]] = []
    for code, uom, cost, desc, _ in PURCHASED:
        line_side = f", backflush_from: {LINE}, negative_stock: queue" if code in KANBAN else ""
        item_lines.append((f"  - {{code: {code}, uom: {uom}, standard_cost: {cost}"
                           f"{line_side}}}", desc))
    for code, desc, conv, phantom in MADE:
        parts = [f"code: {code}", "uom: ea"]
        if phantom:
            parts.append("phantom: true")
        if conv is not None:
            parts.append(f"conversion_cost: {conv}")
        item_lines.append(("  - {" + ", ".join(parts) + "}", desc))
    width = max(len(line) for line, _ in item_lines) + 2
    for i, (line, desc) in enumerate(item_lines):
        if i == len(PURCHASED):
            w("  # made items: standard cost rolled up from the BOM plus own conversion")
        w(f"{line.ljust(width)}# {desc}")
    w("boms:")
    for parent in sorted(BOMS, key=lambda p: (level_of(p), MADE_CODES.index(p))):
        w(f"  {parent}:")
        for comp, qper, scrap in BOMS[parent]:
            line = f"item: {comp}, qty: {qper}"
            if D(scrap) != 0:
                line += f", scrap: {scrap}"
            w(f"    - {{{line}}}")
    w("opening:")
    w("  stock:")
    for code, *_ in PURCHASED:
        w(f"    - {{item: {code}, qty: {fmt(sim.opening[code])}, location: {LOCATION}}}")
    w("work_centers:")
    for code, rate, lr, orr, desc in WORK_CENTERS:
        if rate is not None:
            body = f"code: {code}, rate: {rate}"
        else:
            body = f"code: {code}, labor_rate: {lr}, overhead_rate: {orr}"
        w(f"  - {{{body}}}".ljust(59) + f"# {desc}")
    w("routings:")
    for item in MADE_CODES:
        if item not in ROUTINGS:
            continue
        w(f"  {item}:")
        for op, wc, run, setup, lot in ROUTINGS[item]:
            w(
                f"    - {{operation: {op}, work_center: {wc}, run_hours: {run}, "
                f"setup_hours: {setup}, lot_size: {lot}}}"
            )
    w("events:")
    for ev in sim.events:
        w("  - " + yval(ev))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def main() -> None:
    sim = Sim()
    sim.run()
    text = write_yaml(sim)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")

    # self-check: the file loads, and the events come back in chronological order
    doc = yaml.safe_load(text)
    events = doc["events"]
    assert len(events) == len(sim.events) >= 550, len(events)
    dates = [e["date"] for e in events if "date" in e]
    assert dates == sorted(dates) and dates[0] >= MONTH_START
    assert dates[-1] <= MONTH_END + dt.timedelta(days=1)
    assert len({e["id"] for e in events}) == len(events), "duplicate event ids"
    for code in sim.min_book:
        assert sim.min_book[code] >= 0 and sim.min_true[code] >= 0, code
    assert len(doc["items"]) >= 30

    # summary
    by_type = Counter(e["type"] for e in events)
    n_lines = sum(len(v) for v in BOMS.values())
    n_scrap = sum(1 for v in BOMS.values() for _, _, s in v if D(s) != 0)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    print(
        f"items: {len(doc['items'])} ({len(PURCHASED)} purchased, {len(STOCKED_SUBS)} stocked "
        f"subassemblies, 1 phantom {PHANTOM}, {len(FINISHED)} finished chairs)"
    )
    print(
        f"BOM lines: {n_lines} in {len(BOMS)} BOMs ({n_scrap} with a scrap factor); "
        f"work centers: {len(WORK_CENTERS)}; routings: {len(ROUTINGS)}"
    )
    print(f"events: {len(events)} = " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())))
    print("standard cost per finished chair (rolled up) / list price:")
    for ch in FINISHED:
        print(
            f"  {ch:<8} {money(std_cost(ch)):>8}  list {money(sim.list_price[ch]):>8}  "
            f"made {sim.produced[ch]:>5}  sold {sim.sold[ch]:>5}  "
            f"left {fmt(sim.book[ch])}"
        )
    applied = sim.applied_good
    print(
        f"conversion: incurred {money(sim.incurred)}, applied at standard "
        f"{money(applied)} on good units (+{money(sim.applied_scrap)} on scrapped units); "
        f"under-applied {money(sim.incurred - applied)} "
        f"({money((sim.incurred / applied - 1) * 100)} %) on good units, "
        f"{money(sim.incurred - applied - sim.applied_scrap)} if scrapped units absorb too"
    )
    parent, comp, bom_q, true_q = WRONG_LINE
    print(
        f"understated BOM line: {parent} -> {comp}: BOM qty {fmt(bom_q)}, true average "
        f"{fmt(true_q)} (unreported breakage); {sim.kits_built} kits built -> "
        f"{sim.extra_casters} {comp} missing at the count "
        f"(usage variance about {money(sim.extra_casters * STD[comp])} USD at standard)"
    )
    print("month-end counts (book = opening + receipts - standard backflush):")
    for item, book, true, counted in sim.count_rows:
        diff = counted - book
        print(
            f"  {item:<10} book {fmt(book, 3):>12}  true {fmt(true, 3):>12}  counted "
            f"{fmt(counted):>10}  diff {fmt(diff, 3):>10}  ({money(diff * STD[item])} USD)"
        )


if __name__ == "__main__":
    main()
