"""The items and BOMs pages: every item with its standard, and one item's BOM tree (the
quantities, scrap factors and gross quantities, down every level), its standard cost by
element and level, its BOM versions and where it is used."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from backflush.domain.bom import Boms, BomVersion
from backflush.domain.items import Item
from backflush.domain.numbers import fmt_qty, fmt_unit
from backflush.entrypoints.web.auth import PageError
from backflush.entrypoints.web.auth import user as page_user
from backflush.entrypoints.web.pages import read, show
from backflush.service_layer.reports import page
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(include_in_schema=False)
PAGE = 100
DEEPEST = 30  # levels drawn (a BOM deeper than this says so)


def _kind(item: Item) -> str:
    return ("phantom" if item.phantom else "made") if item.made else "purchased"


@router.get("/ui/{ledger}/items")
def items(request: Request, ledger: str,
          after: Annotated[str, Query(max_length=200)] = "") -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        master, costs = uow.master.master(), uow.master.costs()
        codes, last = page((c for c in sorted(master.items) if c > after), PAGE)
        rows = []
        for code in codes:
            item, std = master.items[code], costs.costs.get(code)
            rows.append({"code": code, "description": item.description, "uom": item.uom,
                         "kind": _kind(item), "bom": len(master.boms.versions.get(code, ())),
                         "standard": fmt_unit(std.total.total) if std else ""})
        return {"items": rows, "next": last,
                "cost_version": costs.number}

    return show(request, u, "items.html", after=after, **read(u, use))


def tree(boms: Boms, items: dict[str, Item], version: BomVersion, when: date,
         depth: int = 0) -> list[dict[str, Any]]:
    """The lines of ``version``, each with the lines of its component's BOM in force on
    ``when`` beneath it."""
    out = []
    for line in version.lines:
        below = boms.on(line.component, when)
        item = items.get(line.component)
        out.append({"component": line.component, "qty": fmt_qty(line.qty),
                    "scrap": fmt_qty(line.scrap) if line.scrap else "",
                    "gross": fmt_qty(line.gross_qty),
                    "kind": (_kind(item) if item else "unknown")
                    + (", issued by hand" if line.manual else ""),
                    "bom": below.key if below else "",
                    "children": tree(boms, items, below, when, depth + 1)
                    if below is not None and depth < DEEPEST else [],
                    "cut": below is not None and depth >= DEEPEST})
    return out


@router.get("/ui/{ledger}/items/{code:path}")
def item(request: Request, ledger: str, code: str,
         version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        master, costs = uow.master.master(), uow.master.costs()
        found = master.items.get(code)
        if found is None:
            raise PageError(404, f"no item has the code {code!r}")
        versions = master.boms.versions.get(code, ())
        when = uow.events.last_date() or date.today()
        current = master.boms.on(code, when)
        chosen = current if version is None else next(
            (v for v in versions if v.version == version), None)
        if version is not None and chosen is None:
            raise PageError(404, f"{code} has no BOM version {version}")
        std = costs.costs.get(code)
        elements = []
        if std is not None:
            for level, cost in (("this level", std.this_level), ("lower levels",
                                                                  std.lower_level),
                                ("total", std.total)):
                elements.append({"level": level, **{k: fmt_unit(getattr(cost, k)) for k in (
                    "material", "labor", "overhead", "conversion", "total")}})
        on = when if chosen is current else (chosen.effective_from if chosen else when)
        return {"item": found, "kind": _kind(found), "elements": elements,
                "hours": [(wc, fmt_qty(h)) for wc, h in std.hours] if std else [],
                "rolled_bom": std.bom if std else "", "cost_version": costs.number,
                "versions": [{"version": v.version, "key": v.key,
                              "effective": v.effective_from.isoformat(),
                              "lines": len(v.lines), "current": v is current}
                             for v in versions],
                "chosen": chosen, "on": on.isoformat(),
                "tree": tree(master.boms, dict(master.items), chosen, on) if chosen else [],
                "used_in": master.boms.parents_of(code)}

    return show(request, u, "item.html", code=code, **read(u, use))


@router.get("/ui/{ledger}/bom-accuracy")
def bom_accuracy(request: Request, ledger: str) -> Response:
    """BOM accuracy from the counts: the flagged lines with the quantity per suggested, then
    the lines within tolerance or not estimable, and stock gone with no BOM line."""
    from backflush.entrypoints.output.accuracy import accuracy_json, unexplained_json
    from backflush.service_layer.accuracy import bom_accuracy as estimate

    u = page_user(request, ledger)

    def use(uow: UnitOfWork) -> dict[str, Any]:
        found = estimate(uow)
        rows = accuracy_json(found)
        return {"flagged": [r for r in rows if r["flagged"]],
                "others": [r for r in rows if not r["flagged"]],
                "unexplained": unexplained_json(found),
                "tolerance": fmt_qty(found.tolerance * 100)}

    return show(request, u, "bom_accuracy.html", **read(u, use))
