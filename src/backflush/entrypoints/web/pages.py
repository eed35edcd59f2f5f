"""The pages of a ledger: the dashboard, the journal and events with their drill-down to
``explain``, variances, income statements and the period close with its preview.

Every figure comes from the builders the CLI and the API print (``output/reports.py``), so a
page, ``backflush report`` and ``GET /reports/{name}`` cannot disagree."""

from __future__ import annotations

import html
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from backflush.domain.errors import BackflushError
from backflush.domain.events import EVENT_TYPES, Close, period_bounds
from backflush.domain.numbers import ZERO, fmt
from backflush.domain.policy import Role
from backflush.entrypoints.output import closepack
from backflush.entrypoints.output import reports as built
from backflush.entrypoints.output.explain import explanation_json, plain
from backflush.entrypoints.output.tables import Report, grouped
from backflush.entrypoints.web.auth import HEADERS, PageError, User, check_csrf, form, render
from backflush.entrypoints.web.auth import user as page_user
from backflush.service_layer import reports
from backflush.service_layer.access import Access
from backflush.service_layer.batch import Located
from backflush.service_layer.closing import close_event
from backflush.service_layer.periods import closed_periods
from backflush.service_layer.ports import StoredEntry
from backflush.service_layer.posting import Posted, post_one, preview_events
from backflush.service_layer.queue import queue as whole_queue
from backflush.service_layer.reports import Window, page
from backflush.service_layer.unit_of_work import UnitOfWork, with_retries

router = APIRouter(include_in_schema=False)
PAGE = 50  # rows of a list page
INVENTORY = (Role.RAW_MATERIALS, Role.MATERIALS, Role.WORK_IN_PROCESS, Role.FINISHED_GOODS,
             Role.MATERIALS_CAPITALIZED_VARIANCES, Role.FINISHED_GOODS_CAPITALIZED_VARIANCES,
             Role.MATERIALS_GAAP_ADJUSTMENT, Role.FINISHED_GOODS_GAAP_ADJUSTMENT,
             Role.NRV_ALLOWANCE)
BREAKDOWNS = ("item", "supplier", "work-center")
Month = Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$")]


def open_period(uow: UnitOfWork) -> str:
    """The month after the last one closed (else the ledger's first month)."""
    locked = uow.master.locked_through()
    day = locked + timedelta(days=1) if locked else uow.master.opened_on()
    return f"{day.year:04d}-{day.month:02d}"


def chart(report: Report, *, signed: bool = True) -> Markup:
    """The report's bars as inline SVG (text and rectangles: the figures are its text)."""
    values = closepack.bars(report)
    return Markup(closepack.svg(values, report.minor, signed=signed)) if values else Markup()


def amount(value: Decimal, minor: int) -> str:
    """Money as a page shows it: thousands separated (an empty cell for zero)."""
    return grouped(fmt(value, minor), minor) if value else ""


def table(report: Report) -> Markup:
    return Markup(closepack.table(report))


def read(u: User, use: Any) -> Any:
    """``use`` of one read-only transaction on the user's ledger."""
    with u.ledger.unit_of_work(read_only=True) as uow:
        return use(uow)


def show(request: Request, u: User, template: str, status: int = 200,
          **context: Any) -> Response:
    return render(request, template, status, user=u, ledger=u.name, may_close=u.may(
        Access.ACCOUNTANT), **context)


@router.get("/")
@router.get("/ui")
@router.get("/ui/")
def home(request: Request) -> Response:
    names = sorted(request.app.state.ledgers)
    target = f"/ui/{names[0]}/" if len(names) == 1 else "/ui/login"
    return RedirectResponse(target, 303, headers=HEADERS)


@router.get("/ui/{ledger}/")
def dashboard(request: Request, ledger: str) -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        policy = uow.master.policy()
        minor = policy.minor_unit
        period = open_period(uow)
        start, end = period_bounds(period)
        names = {policy.name(r) for r in INVENTORY}
        held = [(a, b) for a, b in reports.trial_balance(uow) if a in names]
        inventory = [(a, grouped(fmt(b, minor), minor)) for a, b in held]
        total = sum((b for _, b in held), ZERO)
        closed = closed_periods(uow)[-6:]
        monthly = reports.figures_by_month(uow, [*closed, period])  # one pass
        variances = built.measured_variances(policy, monthly[period].variances,
                                             Window(start, end))

        def money(value: Decimal) -> str:
            return grouped(fmt(value, minor), minor)

        def share(part: Decimal, whole: Decimal) -> str:
            return f"{part * 100 / whole:.1f} %" if whole else ""

        trend = [(p, {k: money(v) for k, v in f.variances.items()},
                  {"sales": money(f.sales), "cogs": money(f.cost_of_goods_sold),
                   "margin": share(f.margin, f.sales),
                   "variance_share": share(f.variance_total, f.cost_of_goods_sold)})
                 for p, f in ((p, monthly[p]) for p in closed)]
        families = sorted({f for _, fam, _ in trend for f in fam})
        # The latest open alerts (counting millions of alerts is slow)
        alerts = uow.events.stored_alerts(open_only=True, latest=21)
        return {"period": period, "inventory": inventory,
                "inventory_total": grouped(fmt(total, minor), minor),
                "variances": table(variances), "variance_chart": chart(variances),
                "trend": trend, "families": families, "alerts": alerts[-20:],
                "more_alerts": len(alerts) > 20, "queue": whole_queue(uow)}

    return show(request, u, "dashboard.html", **read(u, use))


@router.get("/ui/{ledger}/journal")
def journal(request: Request, ledger: str, after: Annotated[int, Query(ge=0)] = 0,
            account: Annotated[str, Query(max_length=200)] = "",
            month: Annotated[str, Query(pattern=r"^([0-9]{4}-[0-9]{2})?$")] = "") -> Response:
    """Entries in posting order, a page at a time; only those with a line on ``account``,
    or dated in ``month``, when asked."""
    u = page_user(request, ledger)
    window = Window(*period_bounds(month)) if month else Window()

    def wanted(s: StoredEntry) -> bool:
        return s.entry.date in window and (
            not account or any(ln.account == account for ln in s.entry.lines))

    def use(uow: UnitOfWork) -> dict[str, Any]:
        minor = uow.master.policy().minor_unit
        shown, last = page(filter(wanted, uow.journal.entries(after=after)), PAGE)
        entries = [{"seq": s.seq, "date": s.entry.date.isoformat(), "event": s.entry.event_id,
                    "type": s.entry.type, "description": s.entry.description,
                    "lines": [{"account": ln.account, "memo": ln.memo,
                               "debit": amount(ln.debit, minor),
                               "credit": amount(ln.credit, minor)} for ln in s.entry.lines]}
                   for s in shown]
        return {"entries": entries, "accounts": sorted(uow.journal.balances()),
                "months": _months(uow),
                "next": last.seq if last else None}

    return show(request, u, "journal.html", after=after, account=account, month=month,
                **read(u, use))


@router.get("/ui/{ledger}/events")
def events(request: Request, ledger: str, after: Annotated[int, Query(ge=0)] = 0,
           type: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    u = page_user(request, ledger)
    kind = type or None

    def use(uow: UnitOfWork) -> dict[str, Any]:
        found = (s for s in uow.events.all(after=after)
                 if kind is None or s.event.type == kind)
        shown, last = page(found, PAGE)
        rows = [{"seq": s.seq, "id": s.event.id, "type": s.event.type,
                 "date": s.event.date.isoformat(), "summary": s.summary,
                 "fields": "; ".join(f"{k}={plain(v)}" for k, v in s.event.content().items()
                                     if k not in ("type", "date") and v not in ("", [], None))}
                for s in shown]
        return {"events": rows, "next": last.seq if last else None}

    return show(request, u, "events.html", after=after, kind=kind or "",
                 types=sorted(EVENT_TYPES), **read(u, use))


@router.get("/ui/{ledger}/explain/{key:path}")
def explain(request: Request, ledger: str, key: str) -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        found = reports.explain(uow, key)
        if found is None:
            raise PageError(404, f"no event or journal entry {key!r}")
        doc = explanation_json(found, uow.master.policy().minor_unit)
        minor = uow.master.policy().minor_unit
        for e in doc["entries"]:
            for ln in e["lines"]:
                for side in ("debit", "credit"):
                    ln[side] = amount(Decimal(ln[side]), minor)
        fields = [(k, plain(v)) for k, v in (doc["event"] or {}).get("content", {}).items()]
        return {"doc": doc, "fields": fields}

    return show(request, u, "explain.html", key=key, **read(u, use))


@router.get("/ui/{ledger}/variances")
def variances(request: Request, ledger: str, period: Month = None,
              by: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    u = page_user(request, ledger)
    by = by or None  # (the form's "family only" sends by=)
    if by not in (None, *BREAKDOWNS):
        raise PageError(422, f"variances are broken down by {', '.join(BREAKDOWNS)}, "
                        f"not {by!r}")

    def use(uow: UnitOfWork) -> dict[str, Any]:
        chosen = period or open_period(uow)
        window = Window(*period_bounds(chosen))
        policy = uow.master.policy()
        net = reports.net_movements(uow, window)  # one pass: the families and the waterfall
        measured = reports.family_totals(policy, net)
        families = built.measured_variances(policy, measured, window)
        standard = net.get(policy.name(Role.COST_OF_GOODS_SOLD), ZERO)
        steps = [("cost of sales at standard", standard), *measured.items()]
        broken = table(built.report(uow, "variances", window, by)) if by else None
        return {"period": chosen, "families": table(families), "chart": chart(families),
                "waterfall": Markup(waterfall(steps, policy.minor_unit)),
                "actual": grouped(fmt(standard + sum(measured.values(), ZERO),
                                      policy.minor_unit), policy.minor_unit),
                "broken": broken, "by": by, "periods": _months(uow)}

    return show(request, u, "variances.html", **read(u, use))


def _months(uow: UnitOfWork) -> list[str]:
    """The months the ledger has seen: closed ones and the open one."""
    return [*closed_periods(uow), open_period(uow)]


@router.get("/ui/{ledger}/income")
def income(request: Request, ledger: str, period: Month = None) -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        closed = closed_periods(uow)
        chosen = period or (closed[-1] if closed else None)
        if chosen is None:
            return {"period": None, "periods": closed}
        if chosen not in closed:
            raise PageError(422, f"{chosen} is not closed: income statements are of a "
                            "closed month")
        made = built.report(uow, "income", period=chosen)
        return {"period": chosen, "periods": closed, "income": table(made),
                "chart": chart(made, signed=False)}

    return show(request, u, "income.html", **read(u, use))


@router.get("/ui/{ledger}/close")
def close_page(request: Request, ledger: str, period: Month = None,
               gaap_bridge: bool = False, force: bool = False) -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> tuple[str, Close | BackflushError, int, list[str]]:
        chosen = period or open_period(uow)
        try:
            made: Close | BackflushError = close_event(uow, chosen, gaap_bridge=gaap_bridge,
                                                       force=force)
        except BackflushError as exc:
            made = exc
        return chosen, made, uow.master.policy().minor_unit, closed_periods(uow)

    chosen, made, minor, closed = read(u, use)
    preview, error = None, str(made) if isinstance(made, BackflushError) else None
    if not isinstance(made, BackflushError):
        try:  # posted in a transaction rolled back: refused as the close would be
            entries, changes = built.preview(preview_events(
                u.ledger.unit_of_work(), [Located(made)]), minor)
            preview = {"entries": table(entries), "changes": table(changes)}
        except BackflushError as exc:
            error = str(exc)
    return show(request, u, "close.html", period=chosen, gaap_bridge=gaap_bridge, force=force,
                preview=preview, error=error, closed=closed, csrf=u.session.csrf)


@router.post("/ui/{ledger}/close")
async def close(request: Request, ledger: str) -> Response:
    u = page_user(request, ledger)
    fields = await form(request)
    check_csrf(fields, u)
    u.need(Access.ACCOUNTANT, "closing a period")
    period = fields.get("period", "")
    bridge, force = fields.get("gaap_bridge") == "true", fields.get("force") == "true"

    def post() -> Posted:  # in a worker thread, on the ledger's write lock as the API's
        with request.app.state.writing[ledger]:
            return with_retries(lambda: post_one(u.ledger.unit_of_work(), lambda uow: Located(
                close_event(uow, period, gaap_bridge=bridge, force=force))), deadline=10.0)

    try:
        period_bounds(period)
        posted = await run_in_threadpool(post)
    except BackflushError as exc:
        return show(request, u, "close.html", 409, period=period, gaap_bridge=bridge,
                    force=force, preview=None, error=str(exc),
                    closed=read(u, closed_periods), csrf=u.session.csrf)
    return show(request, u, "closed.html", period=period, event=posted.stored.event.id,
                entries=len(posted.entries))


@router.get("/ui/{ledger}/close-pack/{period}")
def close_pack(request: Request, ledger: str, period: str,
               format: Annotated[str, Query(pattern="^(xlsx|html)$")] = "xlsx") -> Response:
    u = page_user(request, ledger)
    if period not in read(u, closed_periods):
        raise PageError(404, f"{period} is not a closed period")
    folder = Path(tempfile.mkdtemp(prefix="backflush-pack-"))
    path = folder / f"close-pack-{ledger}-{period}.{format}"
    read(u, lambda uow: closepack.write_pack(path, uow, period, plant=ledger))

    def clean() -> None:
        path.unlink(missing_ok=True)
        folder.rmdir()

    media = ("text/html" if format == "html" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return FileResponse(path, media_type=media, filename=path.name,
                        background=BackgroundTask(clean),
                        headers={"Cache-Control": "no-store"})


def waterfall(steps: list[tuple[str, Decimal]], minor: int) -> str:
    """A waterfall as inline SVG: the first step a bar from zero, each later one floating
    from the running total (red: unfavourable, adds cost; green: favourable), then the
    total. Every figure is printed beside its bar: the drawing only illustrates them."""
    total = sum((v for _, v in steps), ZERO)
    bars = [*steps, ("at actual (every variance charged to sales)", total)]
    running, tops = ZERO, []
    for i, (_, value) in enumerate(bars):
        start = ZERO if i in (0, len(bars) - 1) else running
        end = value if i in (0, len(bars) - 1) else running + value
        tops.append((start, end))
        if 0 < i < len(bars) - 1:
            running = end
        elif i == 0:
            running = value
    low = min([ZERO, *(min(a, b) for a, b in tops)])
    high = max([ZERO, *(max(a, b) for a, b in tops)]) or Decimal(1)
    width, label_w, row_h, plot = 720, 300, 26, 300
    scale = plot / float(high - low or 1)
    height = row_h * len(bars) + 10
    label = html.escape(", ".join(name for name, _ in bars), quote=True)
    out = [f'<svg role="img" aria-label="Waterfall: {label}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}">']
    for i, ((name, value), (start, end)) in enumerate(zip(bars, tops, strict=True)):
        y = 5 + i * row_h
        x0 = label_w + float(min(start, end) - low) * scale
        length = max(abs(float(end - start)) * scale, 1.0)
        last = i in (0, len(bars) - 1)
        colour = "#2a5d9f" if last else ("#b03a2e" if value > 0 else "#1e7b4f")
        shown = f"{value:,.{minor}f}" if last else f"{value:+,.{minor}f}"
        out.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
                   f"{html.escape(name)}</text>")
        out.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{length:.1f}" '
                   f'height="{row_h - 8}" fill="{colour}"/>')
        out.append(f'<text x="{x0 + length + 6:.1f}" y="{y + 16}">{html.escape(shown)}</text>')
    out.append("</svg>")
    return "".join(out)
