"""``GET /reports/suitability``: where the plant breaks backflush's assumptions, beside the
other reports (its router is included before :mod:`.reading`'s, whose ``/reports/{name}``
would take the path otherwise)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from backflush.domain.errors import NumberError
from backflush.entrypoints.http import deps
from backflush.entrypoints.http import models as m
from backflush.entrypoints.http.deps import Caller, caller
from backflush.entrypoints.http.problems import PROBLEM_RESPONSES, ApiError
from backflush.entrypoints.http.reading import month
from backflush.service_layer.access import Access
from backflush.service_layer.reports import Window
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(responses=PROBLEM_RESPONSES)
Threshold = Annotated[str | None, Query(pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$",
                                        description="Overrides the default threshold.")]
Whole = Annotated[int | None, Query(ge=0, le=999_999,
                                    description="Overrides the default threshold.")]


@router.get("/reports/suitability", tags=["reports"], response_model=m.SuitabilityOut,
            summary="Where the plant breaks backflush's assumptions")
def suitability(who: Caller = caller(Access.VIEWER),
                period: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$",
                                                    description="A month, YYYY-MM")] = None,
                start: Annotated[date | None, Query(alias="from")] = None,
                end: Annotated[date | None, Query(alias="to")] = None,
                min_turnover: Threshold = None, max_cycle_days: Whole = None,
                min_completions: Whole = None, max_bom_versions: Whole = None,
                max_count_difference: Threshold = None,
                max_scrap_rate: Threshold = None) -> m.SuitabilityOut:
    """Slow turnover, long release-to-completion times (the work in process the books do
    not carry, valued at standard), customised items, large count differences and high scrap
    rates over a month (`period`) or days (`from`, `to`; default: everything): each finding
    with its figure, the threshold it passed and an explanation; every check with how much
    it examined. Thresholds default as in `backflush report suitability`."""
    from backflush.entrypoints.output.suitability import suitability_json
    from backflush.service_layer.suitability import suitability as build
    from backflush.service_layer.suitability import thresholds_of

    if period is not None and (start is not None or end is not None):
        raise ApiError(422, "invalid", "give a month (period) or days (from, to), not both",
                       field="period")
    if start and end and start > end:
        raise ApiError(422, "invalid", f"from {start} is after to {end}", field="from")
    window = Window(*month(period, "period")) if period else Window(start, end)
    given = {"min_turnover": min_turnover, "max_count_difference": max_count_difference,
             "max_scrap_rate": max_scrap_rate,
             **{k: None if v is None else str(v) for k, v in (
                 ("max_cycle_days", max_cycle_days), ("min_completions", min_completions),
                 ("max_bom_versions", max_bom_versions))}}
    try:
        limits = thresholds_of(given)
    except NumberError as exc:
        raise ApiError(422, "invalid", str(exc), field=exc.field) from None

    def use(uow: UnitOfWork) -> m.SuitabilityOut:
        return m.SuitabilityOut.model_validate(
            suitability_json(build(uow, window, limits), uow.master.policy().minor_unit))

    return deps.read(who.ledger, use)
