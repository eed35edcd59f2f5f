"""Master data (items, BOMs and their versions, routings, work centers, cost versions) and
the API's tokens."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from backflush.domain.errors import ValidationError
from backflush.domain.numbers import fmt_qty
from backflush.entrypoints.http import deps
from backflush.entrypoints.http import models as m
from backflush.entrypoints.http.deps import Caller, caller
from backflush.entrypoints.http.problems import (
    BODY_RESPONSES,
    PROBLEM_RESPONSES,
    ApiError,
    responses,
)
from backflush.service_layer import access
from backflush.service_layer.access import Access
from backflush.service_layer.ports import Token
from backflush.service_layer.reports import page
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
After = Annotated[str | None, Query(description="The cursor of the page before.")]


def _page(codes: list[str], after: str | None, limit: int) -> tuple[list[str], str | None]:
    start = deps.after(after, str)
    chosen = sorted(c for c in codes if start is None or c > start)
    shown, last = page(chosen, limit)
    return shown, deps.cursor(last) if last else None


@router.get("/items", tags=["master data"], response_model=m.ItemPage, summary="Items")
def items(who: Caller = caller(Access.VIEWER), limit: Limit = 100, after: After = None
          ) -> m.ItemPage:
    """Items by code, with their standard cost in force (rolled up for made items)."""
    def use(uow: UnitOfWork) -> m.ItemPage:
        master, costs = uow.master.master(), uow.master.costs()
        minor = uow.master.policy().minor_unit
        codes, nxt = _page(list(master.items), after, limit)
        out = []
        for code in codes:
            item = master.items[code]
            cost = costs.costs.get(code)
            total = cost.this_level.total + cost.lower_level.total if cost else None
            out.append(m.ItemOut(
                code=code, uom=item.uom, made=item.made, phantom=item.phantom,
                finished=master.is_finished(code), description=item.description,
                standard_cost=m.money(total, max(minor, 4)) if total is not None else None,
                conversion_cost=fmt_qty(item.conversion_cost)
                if item.conversion_cost is not None else None,
                backflush_from=item.backflush_from, negative_stock=item.negative_stock))
        return m.ItemPage(items=out, next=nxt)

    return deps.read(who.ledger, use)


@router.get("/boms", tags=["master data"], response_model=m.BomPage,
            summary="BOMs and their versions")
def boms(who: Caller = caller(Access.VIEWER), limit: Limit = 100, after: After = None
         ) -> m.BomPage:
    def use(uow: UnitOfWork) -> m.BomPage:
        versions = uow.master.master().boms.all()
        parents = sorted({v.parent for v in versions})
        codes, nxt = _page(parents, after, limit)
        chosen = set(codes)
        by: dict[str, list[m.BomVersionOut]] = {c: [] for c in codes}
        for v in versions:
            if v.parent in chosen:
                by[v.parent].append(m.BomVersionOut(
                    parent=v.parent, version=v.version,
                    effective=v.effective_from.isoformat(),
                    lines=[m.BomLineOut(item=ln.component, qty=fmt_qty(ln.qty),
                                        scrap=fmt_qty(ln.scrap), flush=ln.flush)
                           for ln in v.lines]))
        return m.BomPage(items=[m.BomOut(item=c, versions=by[c]) for c in codes], next=nxt)

    return deps.read(who.ledger, use)


@router.get("/routings", tags=["master data"], response_model=list[m.RoutingOut],
            summary="Routings")
def routings(who: Caller = caller(Access.VIEWER)) -> list[m.RoutingOut]:
    def use(uow: UnitOfWork) -> list[m.RoutingOut]:
        found = uow.master.master().routings
        return [m.RoutingOut(item=item, operations=[m.OperationOut(
            operation=op.operation, work_center=op.work_center, run_hours=fmt_qty(op.run_hours),
            setup_hours=fmt_qty(op.setup_hours), lot_size=fmt_qty(op.lot_size))
            for op in ops]) for item, ops in sorted(found.items())]

    return deps.read(who.ledger, use)


@router.get("/work-centers", tags=["master data"], response_model=list[m.WorkCenterOut],
            summary="Work centers and their rates")
def work_centers(who: Caller = caller(Access.VIEWER)) -> list[m.WorkCenterOut]:
    def use(uow: UnitOfWork) -> list[m.WorkCenterOut]:
        return [m.WorkCenterOut(code=wc.code, labor_rate=fmt_qty(wc.labor_rate),
                                overhead_rate=fmt_qty(wc.overhead_rate),
                                rate=fmt_qty(wc.conversion_rate))
                for _, wc in sorted(uow.master.master().work_centers.items())]

    return deps.read(who.ledger, use)


@router.get("/cost-versions/{number}", tags=["master data"], response_model=m.CostVersionOut,
            summary="A cost version's standard costs")
def cost_version(number: int, who: Caller = caller(Access.VIEWER)) -> m.CostVersionOut:
    """Version `0` is the one in force."""
    def use(uow: UnitOfWork) -> m.CostVersionOut:
        current = uow.master.costs()
        if number not in (0, current.number) and not 1 <= number < current.number:
            raise ApiError(404, "not_found", f"no cost version {number}; the one in force "
                           f"is {current.number}")
        version = current if number in (0, current.number) else uow.master.cost_version(number)
        return m.CostVersionOut(
            number=version.number, effective_from=version.effective_from.isoformat(),
            in_force=version.number == current.number,
            costs=[m.CostOut(item=code, bom=c.bom,
                             material=fmt_qty(c.this_level.material + c.lower_level.material),
                             labor=fmt_qty(c.this_level.labor + c.lower_level.labor),
                             overhead=fmt_qty(c.this_level.overhead + c.lower_level.overhead),
                             conversion=fmt_qty(c.this_level.conversion
                                                + c.lower_level.conversion),
                             total=fmt_qty(c.this_level.total + c.lower_level.total))
                   for code, c in sorted(version.costs.items())])

    return deps.read(who.ledger, use)


# ---------------------------------------------------------------------------------- imports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 100_000_000
IMPORT_BODY = {"required": True, "content": {
    "text/csv": {"schema": {"type": "string", "description": "A header row, then a row "
                            "per record (the columns of `backflush import`: README)"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}}}}


@router.post("/imports/{kind}", tags=["master data"], response_model=m.ImportOut,
             summary="Import master data", openapi_extra={"requestBody": IMPORT_BODY},
             responses=BODY_RESPONSES)
async def import_file(
        kind: Literal["items", "boms", "routings", "work-centers", "kanban", "costs"],
        request: Request, who: Caller = caller(Access.ACCOUNTANT),
        as_of: Annotated[date | None, Query(
            alias="as-of", description="The roll-up date, and the date of the cost and "
            "rate changes posted (default: today)")] = None) -> m.ImportOut:
    """What `backflush import KIND FILE` does, with the file as the body (CSV or XLSX):
    every row is checked first, and nothing is imported if any is bad (422 naming each
    line and field)."""
    from backflush.adapters import files
    from backflush.service_layer.imports import import_costs, import_master

    kind_of = deps.media(request, ("text/csv", XLSX))
    path, _ = await deps.spooled(request, ".csv" if kind_of == "text/csv" else ".xlsx",
                                 MAX_IMPORT_BYTES)
    day = as_of or date.today()

    def use() -> m.ImportOut:
        master = deps.read(who.ledger, lambda uow: uow.master.master())
        try:
            records, changes = files.read_import(kind, path, master, day)
        except ValidationError as exc:
            raise deps.unplaced(exc) from None
        rows = sum(len(v) for v in records.values())

        def run() -> Any:
            uow = who.ledger.unit_of_work()
            if kind == "costs":
                return import_costs(uow, changes, day)
            return import_master(uow, kind, day, rows=rows, **records)

        done = deps.write(who, run)
        return m.ImportOut(kind=kind, rows=done.rows, cost_version=done.cost_version,
                           posted=done.posted.posted if done.posted else 0)

    try:
        return await deps.threaded(use)
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------- tokens


def _token(t: Token) -> m.TokenOut:
    return m.TokenOut(id=t.id, name=t.name, role=t.role, created=t.created, revoked=t.revoked)


@router.get("/tokens", tags=["tokens"], response_model=list[m.TokenOut], summary="API tokens")
def tokens(who: Caller = caller(Access.ADMIN)) -> list[m.TokenOut]:
    """Every token made (never its secret)."""
    return [_token(t) for t in access.list_tokens(who.ledger.unit_of_work(read_only=True))]


@router.post("/tokens", tags=["tokens"], status_code=201, response_model=m.TokenMade,
             summary="Make a token", responses=responses(400))
def make_token(body: m.TokenIn, who: Caller = caller(Access.ADMIN)) -> m.TokenMade:
    """The secret is in this response only; the ledger keeps its hash."""
    made = deps.write(who, lambda: access.create_token(who.ledger.unit_of_work(), body.role,
                                                  body.name))
    return m.TokenMade(**_token(made.token).model_dump(), token=made.secret)


@router.delete("/tokens/{key}", tags=["tokens"], response_model=m.TokenOut,
               summary="Revoke a token")
def revoke(key: str, who: Caller = caller(Access.ADMIN)) -> m.TokenOut:
    """By id or name; it is refused from then on, and stays listed."""
    found = deps.write(who, lambda: access.revoke_token(who.ledger.unit_of_work(), key))
    return _token(found)
