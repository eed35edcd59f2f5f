"""The close pack of a period: one XLSX workbook and the same as a printable HTML page.

Its reports: the trial balance at the period's end, the income statements (absorption and
throughput side by side, and after the GAAP bridge), the books-to-GAAP reconciliation when
the close posted a bridge, the variances of the period by family, analysed and by item, the
stock on hand, and, from a scenario run, the same events costed by sequential tracking
beside the books (a kept ledger's pack leaves it out: ``backflush compare FILE`` on its
events). The variances and the operating incomes are also charts: native Excel bar charts in
the workbook, inline SVG in the page (no script, no network: it prints as it shows). Every
figure is the text the ledger computed; nothing goes through a float but the charts' bar
lengths.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from backflush.domain.events import period_bounds
from backflush.domain.numbers import fmt
from backflush.entrypoints.output import reports as built
from backflush.entrypoints.output.files import write_text
from backflush.entrypoints.output.safety import Cell, Number, shown
from backflush.entrypoints.output.tables import Column, Report, display
from backflush.service_layer import reports
from backflush.service_layer.periods import PeriodFigures, period_figures
from backflush.service_layer.reports import Window
from backflush.service_layer.unit_of_work import UnitOfWork


def close_pack(uow: UnitOfWork, period: str,
               comparison: reports.Comparison | None = None) -> list[Report]:
    start, end = period_bounds(period)
    window = Window(start, end)
    figures = period_figures(uow, period)  # once, for the three reports built of it
    made = [books_after_close(uow, figures), built.income(uow, period, figures)]
    if figures.gaap_balances is not None:
        made.append(built.gaap(uow, period, figures))
    made += [built.variances(uow, window), built.analysis(uow, period),
             built.variances_by(uow, "item", window), built.stock(uow)]
    by_item = made[-2]
    made[-2] = Report("variances-by-item", by_item.title, by_item.columns, by_item.rows,
                      by_item.total, by_item.minor)
    if comparison is not None:
        made.append(built.comparison(comparison, uow.master.policy().minor_unit))
    return made


def books_after_close(uow: UnitOfWork, figures: PeriodFigures) -> Report:
    """The trial balance at the period's end after its close, the GAAP bridge left out (the
    books-to-GAAP report shows the bridge)."""
    minor = uow.master.policy().minor_unit
    period = figures.period
    rows: list[list[Cell]] = []
    dr = cr = Decimal(0)
    for account, balance in figures.balances:
        debit, credit = max(balance, Decimal(0)), max(-balance, Decimal(0))
        dr, cr = dr + debit, cr + credit
        rows.append([account, Number(fmt(debit, minor)) if debit else None,
                     Number(fmt(credit, minor)) if credit else None])
    _, end = period_bounds(period)
    return Report("trial-balance", f"Trial balance at {end} after the close of {period}",
                  (Column("account"), Column("debit", "money"), Column("credit", "money")),
                  rows, ["Total", Number(fmt(dr, minor)), Number(fmt(cr, minor))], minor)


def bars(report: Report) -> list[tuple[str, Decimal]]:
    """The (label, amount) pairs a report's chart draws: the variances by family and their
    analysis (family, part, element); the operating income of each statement."""
    if report.name in ("variances", "analysis"):
        at = report.header.index("amount")
        out = []
        for r in report.rows:
            amount = r[at]
            if isinstance(amount, Number):
                out.append((" ".join(str(c) for c in r[:at] if c), Decimal(amount.text)))
        return out
    if report.name == "income":
        row = report.rows[-1]
        return [(c.name, Decimal(v.text)) for c, v in zip(report.columns[1:], row[1:],
                                                          strict=True)
                if isinstance(v, Number)]
    return []


TITLES = {"variances": "Variances by family (positive = unfavourable)",
          "analysis": "Variance analysis (positive = unfavourable)",
          "income": "Operating income"}


def write_xlsx(path: Path, made: Sequence[Report]) -> None:
    from openpyxl.chart import BarChart, Reference

    from backflush.entrypoints.output.xlsx import write_workbook

    def chart(ws: Any, report: Report) -> None:
        """A native bar chart of :func:`bars`' figures, read from the sheet's own cells."""
        if report.name not in TITLES or not report.rows:
            return
        rows, width = len(report.rows), len(report.columns)
        c = BarChart()
        c.title, c.legend = TITLES[report.name], None
        if report.name == "income":  # the last row (operating income), one bar a statement
            c.type = "col"
            c.add_data(Reference(ws, min_col=2, max_col=width, min_row=rows + 1,
                                 max_row=rows + 1), from_rows=True)
            c.set_categories(Reference(ws, min_col=2, max_col=width, min_row=1, max_row=1))
        else:  # the amount column, labelled by the columns before it
            at = report.header.index("amount") + 1
            c.type = "bar"
            c.add_data(Reference(ws, min_col=at, min_row=1, max_row=rows + 1),
                       titles_from_data=True)
            c.set_categories(Reference(ws, min_col=1, max_col=max(at - 1, 1), min_row=2,
                                       max_row=rows + 1))
        c.width, c.height = 16, 7.5 + 0.4 * rows * (report.name == "analysis")
        ws.add_chart(c, f"{chr(ord('A') + width + 1)}2")

    write_workbook(path, made, decorate=chart)


def page(made: Sequence[Report], title: str) -> str:
    """The printable HTML page: a table per report and an SVG chart where it has one."""
    parts = [f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{_e(title)}</h1>"]
    for report in made:
        parts.append(f"<section id=\"{_e(report.name)}\"><h2>{_e(report.title)}</h2>")
        drawn = bars(report)
        if drawn:
            parts.append(svg(drawn, report.minor, signed=report.name != "income"))
        parts.append(table(report))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def table(report: Report) -> str:
    head = "".join(f"<th scope=\"col\" class=\"{'num' if c.numeric else 'text'}\">"
                   f"{_e(c.name)}</th>" for c in report.columns)
    body = []
    for row, cls in [*((r, "") for r in report.rows),
                     *([(report.total, "total")] if report.total else [])]:
        cells = "".join(f"<td class=\"{'num' if c.numeric else 'text'}\">"
                        f"{_e(display(v, c, report.minor))}</td>"
                        for v, c in zip(row, report.columns, strict=True))
        body.append(f"<tr class=\"{cls}\">{cells}</tr>")
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table>")


def svg(values: Sequence[tuple[str, Decimal]], minor: int, *, signed: bool) -> str:
    """Horizontal bars around a zero line, each labelled with its amount as text;
    ``signed``: red for unfavourable (positive), green for favourable, else blue and grey."""
    width, label_w, row_h = 640, 200, 26
    span = max((abs(v) for _, v in values), default=Decimal(0)) or Decimal(1)
    has_negative = any(v < 0 for _, v in values)
    plot = width - label_w - 120
    zero = label_w + (plot // 2 if has_negative else 0)
    scale = (plot // 2 if has_negative else plot) / float(span)
    height = row_h * len(values) + 10
    label = _e(", ".join(name for name, _ in values))
    out = [f"<svg role=\"img\" aria-label=\"{label}\" width=\"{width}\" "
           f"height=\"{height}\" viewBox=\"0 0 {width} {height}\">"]
    for i, (name, value) in enumerate(values):
        y = 5 + i * row_h
        length = abs(float(value)) * scale  # drawing only: the figure is the text beside it
        x = zero - length if value < 0 else zero
        colour = (("#b03a2e" if value > 0 else "#1e7b4f") if signed
                  else ("#2a5d9f" if value >= 0 else "#6b6b6b"))
        out.append(f"<text x=\"{label_w - 8}\" y=\"{y + 16}\" text-anchor=\"end\">"
                   f"{_e(name)}</text>")
        out.append(f"<rect x=\"{x:.1f}\" y=\"{y + 3}\" width=\"{max(length, 1):.1f}\" "
                   f"height=\"{row_h - 8}\" fill=\"{colour}\"/>")
        out.append(f"<text x=\"{zero + (length if value >= 0 else 0) + 6:.1f}\" "
                   f"y=\"{y + 16}\">{_e(f'{value:,.{minor}f}')}</text>")
    out.append(f"<line x1=\"{zero}\" y1=\"0\" x2=\"{zero}\" y2=\"{height}\" "
               "stroke=\"#333\"/></svg>")
    return "".join(out)


def write_html(path: Path, made: Sequence[Report], title: str) -> None:
    write_text(path, page(made, title))


def write_pack(path: Path, uow: UnitOfWork, period: str, plant: str = "",
               comparison: reports.Comparison | None = None) -> int:
    """Write the pack (XLSX or HTML by the file's suffix); the number of reports in it.
    ``comparison``: the same events under sequential tracking (a scenario run has them)."""
    made = close_pack(uow, period, comparison)
    if path.suffix.lower() == ".html":
        title = f"Close pack {period}" + (f": {shown(plant, markup=False)}" if plant else "")
        write_html(path, made, title + f" (made {date.today().isoformat()})")
    else:
        write_xlsx(path, made)
    return len(made)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """
body { font-family: system-ui, sans-serif; color: #111; background: #fff; margin: 2rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ccc; }
th { background: #e8e8e8; text-align: left; } th.num, td.num { text-align: right; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #333; }
svg text { font-size: 12px; fill: #111; }
@media print { body { margin: 0.5cm; } section { break-inside: avoid; } }
"""
