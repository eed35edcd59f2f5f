"""The ledger's reports as :class:`~.tables.Report` s: what ``backflush report`` prints or
writes, and what ``run`` and ``demo`` show after a scenario.

Each builder reads the caller's unit of work (one read-only transaction) and makes text
cells of what came from input (codes, names, memos) and :class:`~.safety.Number` cells of
what the ledger computed, so every format renders the same figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from backflush.domain.numbers import ZERO, fmt, fmt_qty, fmt_unit
from backflush.domain.policy import Policy
from backflush.entrypoints.output import kanban as shown_kanban
from backflush.entrypoints.output.safety import Cell, Number
from backflush.entrypoints.output.tables import Column, Report, grouped
from backflush.service_layer import kanban, reports
from backflush.service_layer.posting import Preview
from backflush.service_layer.reports import ALL, Window
from backflush.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from backflush.service_layer.periods import PeriodFigures

REPORTS = ("trial-balance", "stock", "variances", "journal", "income", "gaap", "analysis",
           "cost-sheet", "queue", "kpis", "kanban", "kanban-sizing", "bom-accuracy")


def _money(value: Decimal, minor: int) -> Number:
    return Number(fmt(value, minor))


def _side(value: Decimal, minor: int) -> Number | None:
    return _money(value, minor) if value else None


def _when(window: Window) -> str:
    if window.whole:
        return ""
    if window.start is None:
        return f" through {window.end}"
    if window.end is None:
        return f" from {window.start}"
    return f" {window.start} to {window.end}"


def trial_balance(uow: UnitOfWork, through: date | None = None) -> Report:
    minor = uow.master.policy().minor_unit
    rows: list[list[Cell]] = []
    dr = cr = ZERO
    for account, balance in reports.trial_balance(uow, through):
        dr += max(balance, ZERO)
        cr += max(-balance, ZERO)
        rows.append([account, _side(max(balance, ZERO), minor),
                     _side(max(-balance, ZERO), minor)])
    title = "Trial balance" + (f" at the end of {through}" if through else "")
    return Report("trial-balance", title,
                  (Column("account"), Column("debit", "money"), Column("credit", "money")),
                  rows, ["Total", _money(dr, minor), _money(cr, minor)], minor)


def stock(uow: UnitOfWork) -> Report:
    minor = uow.master.policy().minor_unit
    rows: list[list[Cell]] = []
    total = ZERO
    for r in reports.stock_report(uow):
        total += r.value
        rows.append([r.item, r.location, Number(fmt_qty(r.qty)), _money(r.value, minor),
                     r.account])
    return Report("stock", "Stock on hand",
                  (Column("item"), Column("location"), Column("qty", "qty"),
                   Column("value", "money"), Column("account")),
                  rows, ["Total", None, None, _money(total, minor), None], minor)


def variances(uow: UnitOfWork, window: Window = ALL) -> Report:
    return measured_variances(uow.master.policy(), reports.variance_report(uow, window),
                              window)


def measured_variances(policy: Policy, measured: dict[str, Decimal],
                       window: Window = ALL) -> Report:
    """The variances report of families measured already (:func:`variances`)."""
    minor = policy.minor_unit
    rows: list[list[Cell]] = [[k, _money(v, minor), policy.disposition[k].value]
                              for k, v in measured.items()]
    return Report("variances",
                  f"Variances measured{_when(window)} (positive = unfavourable / "
                  "under-applied)",
                  (Column("family"), Column("amount", "money"), Column("disposition")),
                  rows, ["Total", _money(sum(measured.values(), ZERO), minor), None], minor)


def variances_by(uow: UnitOfWork, dimension: str, window: Window = ALL) -> Report:
    from backflush.service_layer.variances import variances_by as measured

    minor = uow.master.policy().minor_unit
    found = measured(uow, dimension, window)
    rows: list[list[Cell]] = [[r.family, r.key, _money(r.amount, minor),
                               Number(str(r.events))] for r in found]
    return Report("variances", f"Variances by {dimension.replace('-', ' ')}{_when(window)} "
                  "(positive = unfavourable / under-applied)",
                  (Column("family"), Column(dimension), Column("amount", "money"),
                   Column("events", "int")),
                  rows, ["Total", None, _money(sum((r.amount for r in found), ZERO), minor),
                         None], minor)


def journal(uow: UnitOfWork, window: Window = ALL) -> Report:
    minor = uow.master.policy().minor_unit
    rows: list[list[Cell]] = []
    dr = cr = ZERO
    for seq, e in reports.journal(uow, window):
        for ln in e.lines:
            dr += ln.debit
            cr += ln.credit
            rows.append([Number(str(seq)), e.date, e.event_id, e.type, e.description,
                         ln.account, _side(ln.debit, minor), _side(ln.credit, minor),
                         ln.memo or None])
    return Report("journal", f"Journal{_when(window)}",
                  (Column("entry", "int"), Column("date", "date"), Column("event"),
                   Column("type"), Column("description"), Column("account"),
                   Column("debit", "money"), Column("credit", "money"), Column("memo")),
                  rows, ["Total", None, None, None, None, None, _money(dr, minor),
                         _money(cr, minor), None], minor)


def income(uow: UnitOfWork, period: str, figures: PeriodFigures | None = None) -> Report:
    """Absorption and throughput side by side (and absorption after the GAAP bridge when the
    close posted one), with the conversion carried in stock that reconciles them.
    ``figures``: the period's, when the caller has them already."""
    from backflush.service_layer.periods import period_figures

    minor = uow.master.policy().minor_unit
    p = figures or period_figures(uow, period)
    a, t, g = p.absorption, p.throughput, p.gaap

    def row(label: str, absorption: Decimal | None, throughput: Decimal | None,
            gaap: Decimal | None = None) -> list[Cell]:
        cells: list[Cell] = [label, None if absorption is None else _money(absorption, minor),
                             None if throughput is None else _money(throughput, minor)]
        return cells + ([None if gaap is None else _money(gaap, minor)] if g else [])

    rows = [row("Sales", a.sales, t.sales, g.sales if g else None),
            row("Cost of goods sold", a.cost_of_goods_sold, None,
                g.cost_of_goods_sold if g else None),
            row("Materials (truly variable cost)", None, t.materials),
            row("Throughput", None, t.throughput),
            row("Conversion expensed in the period", a.conversion_expensed or None,
                t.conversion, (g.conversion_expensed or None) if g else None),
            row("Abnormal scrap and rounding differences", a.other or None, t.other or None,
                (g.other or None) if g else None)]
    if not (a.other or (g and g.other)):
        rows.pop()
    columns = [Column("line"), Column("absorption", "money"), Column("throughput", "money")]
    if g:
        columns.append(Column("GAAP", "money"))
    difference = a.operating_income - t.operating_income
    title = (f"Income statements for {period}: operating income differs by "
             f"{grouped(fmt(difference, minor), minor)}, the change in conversion carried in "
             f"stock ({grouped(fmt(p.carried[0], minor), minor)} at the start, "
             f"{grouped(fmt(p.carried[1], minor), minor)} at the end)")
    # Operating income is a row, not a total: CSV and JSON keep it (they leave totals out).
    rows.append(row("Operating income", a.operating_income, t.operating_income,
                    g.operating_income if g else None))
    return Report("income", title, tuple(columns), rows, None, minor)


def key_figures(uow: UnitOfWork, window: Window = ALL) -> Report:
    """Scrap and defect rates, supplier price performance, orders and inventory turnover."""
    from backflush.service_layer.kpis import kpis

    minor = uow.master.policy().minor_unit
    k = kpis(uow, window)

    def num(value: Decimal | None) -> Number | None:
        return None if value is None else Number(fmt_qty(value))

    rows: list[list[Cell]] = []
    for s in k.scrap:
        rows.append(["scrap rate", s.item, num(s.rate),
                     f"{fmt_qty(s.scrapped)} scrapped of {fmt_qty(s.good + s.scrapped)}"])
    for w in k.work_centers:
        rows.append(["scrap rate by work center", w.work_center, num(w.rate),
                     f"{fmt_qty(w.scrapped)} scrapped of {fmt_qty(w.good + w.scrapped)}"])
    for p in k.suppliers:
        rows.append(["supplier price variance", p.supplier, num(p.variance_rate),
                     f"{fmt(p.variance, minor)} on {fmt(p.at_standard, minor)} at standard, "
                     f"{p.receipts} receipts"])
    for d in k.deliveries:
        rows.append(["on-time receipts", d.supplier, num(d.on_time_rate),
                     f"{d.on_time} of {d.with_due} with a due date on time; the late ones "
                     f"{fmt_qty(d.average_days_late or ZERO)} days late on average"])
    o = k.orders
    rows += [["orders", "released", Number(str(o.released)), None],
             ["orders", "completed", Number(str(o.completed)), None],
             ["orders", "on time", Number(str(o.on_time)), f"of {o.with_due} with a due date"],
             ["orders", "average cycle (days)", num(o.cycle_days), "release to last completion"],
             ["orders", "longest cycle (days)", num(None if o.longest_cycle_days is None
                                                    else Decimal(o.longest_cycle_days)), None],
             ["inventory turnover", "", num(k.inventory_turnover),
              f"cost of goods sold {fmt(k.cost_of_goods_sold, minor)} / average inventory "
              f"{fmt(k.average_inventory, minor)}"],
             ["inventory turnover a year", "", num(k.annual_turnover),
              f"x 365 / {k.days} days" if k.days else None]]
    return Report("kpis", f"Key figures{_when(window)}",
                  (Column("kpi"), Column("key"), Column("value", "qty"), Column("detail")),
                  rows, None, minor)


def queue(uow: UnitOfWork) -> Report:
    """The pending queue, oldest first at each place."""
    from backflush.service_layer.queue import held_issues, pending_issues

    parked, held = pending_issues(uow), held_issues(uow)
    found = parked + held
    rows: list[list[Cell]] = [[p.event, p.item, p.location, Number(fmt_qty(p.qty)), p.since,
                               Number(str(p.age_days)), p.reason,
                               "blocks" if p.blocks_close else "warns"]
                              for p in found]
    return Report("queue", f"Pending issues ({len(parked)}): parked until stock arrives at "
                  "their location, oldest first" + (
                      f"; completions held unposted ({len(held)}): backflush queue --retry"
                      if held else ""),
                  (Column("event"), Column("item"), Column("location"), Column("qty", "qty"),
                   Column("since", "date"), Column("age (days)", "int"), Column("reason"),
                   Column("close")), rows, None, 2)


def cost_sheet(uow: UnitOfWork) -> Report:
    """The standard cost of every item by element and level, in the cost version in force:
    this level (its own material, or its routing's conversion) and the levels below it."""
    costs = uow.master.costs()
    master = uow.master.master()
    rows: list[list[Cell]] = []
    for code in master.items:
        std = costs.costs.get(code)
        if std is None:
            continue
        for level, cost in (("this", std.this_level), ("lower", std.lower_level),
                            ("total", std.total)):
            if level == "lower" and not master.items[code].made:
                continue
            if level == "total" and not master.items[code].made:
                continue
            label = f"this ({std.bom})" if level == "this" and std.bom else level
            rows.append([code, label, *(Number(fmt_unit(v)) for v in (
                cost.material, cost.labor, cost.overhead, cost.conversion, cost.total)),
                "; ".join(f"{wc} {fmt_qty(h)}" for wc, h in std.hours)
                if level == "this" and std.hours else None])
    return Report("cost-sheet", f"Standard cost sheet, cost version {costs.number} (from "
                  f"{costs.effective_from}), per unit",
                  (Column("item"), Column("level"), Column("material", "qty"),
                   Column("labor", "qty"), Column("overhead", "qty"),
                   Column("conversion", "qty"), Column("total", "qty"),
                   Column("hours")), rows, None, 2)


def analysis(uow: UnitOfWork, period: str) -> Report:
    """The period's variances, each family split into what it is made of (conversion:
    spending, efficiency, volume and timing by element; scrap: component and assembly)."""
    from backflush.domain.events import period_bounds
    from backflush.service_layer.analysis import variance_analysis

    minor = uow.master.policy().minor_unit
    start, end = period_bounds(period)
    a = variance_analysis(uow, Window(start, end))
    rows: list[list[Cell]] = []
    for family, amount in a.families.items():
        if family == "conversion" and a.conversion:
            for (part, element), value in a.conversion.items():
                label = "timing (not a variance)" if part == "timing" else part
                rows.append([family, label, element, _money(value, minor)])
        elif family == "scrap" and a.scrap:
            for part, value in a.scrap.items():
                rows.append([family, part, None, _money(value, minor)])
        else:
            rows.append([family, "total", None, _money(amount, minor)])
    return Report("analysis", f"Variance analysis for {period} (positive = unfavourable / "
                  "under-applied)",
                  (Column("family"), Column("part"), Column("element"),
                   Column("amount", "money")),
                  rows, ["Total", None, None, _money(sum(a.families.values(), ZERO), minor)],
                  minor)


def gaap(uow: UnitOfWork, period: str, figures: PeriodFigures | None = None) -> Report:
    """Books to GAAP at the period's end, account by account: the books after the close, the
    GAAP bridge, the GAAP balances. Empty when the close posted no bridge."""
    from backflush.service_layer.periods import period_figures

    minor = uow.master.policy().minor_unit
    p = figures or period_figures(uow, period)
    books = dict(p.balances)
    after = dict(p.gaap_balances or p.balances)
    rows: list[list[Cell]] = []
    for account in dict.fromkeys([*books, *after]):
        before, then = books.get(account, ZERO), after.get(account, ZERO)
        rows.append([account, _money(before, minor), _side(then - before, minor),
                     _money(then, minor)])
    bridged = "" if p.gaap_balances is not None else (
        " (no GAAP bridge: close the period with it to see one)")
    return Report("gaap", f"Books to GAAP at the end of {period}, debit positive{bridged}",
                  (Column("account"), Column("books", "money"), Column("GAAP bridge", "money"),
                   Column("GAAP", "money")), rows, None, minor)


def preview(seen: Preview, minor: int) -> list[Report]:
    """What ``post --preview`` shows: the entries the events would write, then each
    account's change."""
    rows: list[list[Cell]] = []
    for seq, e in seen.entries:
        for ln in e.lines:
            rows.append([Number(str(seq)), e.event_id, ln.account,
                         _side(ln.debit, minor), _side(ln.credit, minor), ln.memo or None])
    entries = Report("preview", "Entries the events would post (nothing is posted)",
                     (Column("entry", "int"), Column("event"), Column("account"),
                      Column("debit", "money"),
                      Column("credit", "money"), Column("memo")), rows, None, minor)
    changes = Report("changes", "Change of each account (debit positive)",
                     (Column("account"), Column("change", "money")),
                     [[a, _money(v, minor)] for a, v in sorted(seen.changes.items())], None,
                     minor)
    return [entries, changes]


def comparison(c: reports.Comparison, minor: int) -> Report:
    """Backflush against sequential tracking for the same events, account by account."""
    return Report(
        "comparison", f"Balances side by side (debit positive); journal entries: backflush "
        f"{c.entries[0]}, sequential {c.entries[1]}",
        (Column("account"), Column("backflush", "money"), Column("sequential", "money"),
         Column("difference", "money")),
        [[account, _money(x, minor), _money(y, minor), _side(x - y, minor)]
         for account, x, y in c.balances], None, minor)


def kanban_report(uow: UnitOfWork, name: str, window: Window) -> Report:
    if name == "kanban":
        return shown_kanban.board(kanban.kanban(uow))
    return shown_kanban.sizing(kanban.sizing_report(uow, window.start, window.end))


def report(uow: UnitOfWork, name: str, window: Window = ALL, by: str | None = None,
           period: str | None = None, tolerance: Decimal | None = None) -> Report:
    """A report by its name (one of :data:`REPORTS`) over ``window``: the trial balance at
    its end, the journal and variances within it (the stock report is on hand now);
    variances by item, supplier or work center when ``by`` names one."""
    if name == "variances" and by is not None:
        return variances_by(uow, by, window)
    if name in ("income", "gaap", "analysis"):
        assert period is not None
        return {"income": income, "gaap": gaap, "analysis": analysis}[name](uow, period)
    if name == "trial-balance":
        return trial_balance(uow, window.end)
    if name == "cost-sheet":
        return cost_sheet(uow)
    if name == "queue":
        return queue(uow)
    if name == "kpis":
        return key_figures(uow, window)
    if name == "bom-accuracy":
        from backflush.entrypoints.output.accuracy import accuracy_report

        return accuracy_report(uow, window, tolerance)
    if name in ("kanban", "kanban-sizing"):
        return kanban_report(uow, name, window)
    if name == "stock":
        return stock(uow)
    if name == "variances":
        return variances(uow, window)
    return journal(uow, window)
