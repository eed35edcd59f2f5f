"""Setting a ledger up: master data, policy, the first cost version, opening balances."""

from __future__ import annotations

from datetime import date

from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import Opening
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.numbers import MAX_MINOR_UNIT
from backflush.domain.policy import Disposition, Policy
from backflush.domain.rollup import roll_up
from backflush.service_layer.batch import BatchResult
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork


def validate_policy(policy: Policy) -> list[Problem]:
    problems = []
    if policy.disposition["conversion"] is Disposition.KEEP:
        problems.append(Problem("policy", "disposition",
                                "conversion variances are written off or prorated at close; "
                                "'keep' is for material variances only"))
    if not 0 <= policy.minor_unit <= MAX_MINOR_UNIT:
        problems.append(Problem("policy", "minor_unit", f"must be from 0 to {MAX_MINOR_UNIT}"))
    if not 0 <= policy.count_tolerance <= 1:
        problems.append(Problem("policy", "count_tolerance", "must be from 0 to 1"))
    return problems


def set_up_ledger(uow: UnitOfWork, master: MasterData, policy: Policy, as_of: date,
                  opening: Opening | None = None) -> BatchResult | None:
    """Load master data and policy into an empty ledger, roll up costs, post the opening."""
    with uow:
        result = set_up_ledger_in(uow, master, policy, as_of, opening)
        uow.commit()
    return result


def set_up_ledger_in(uow: UnitOfWork, master: MasterData, policy: Policy, as_of: date,
                     opening: Opening | None = None) -> BatchResult | None:
    """:func:`set_up_ledger` inside the caller's transaction. The ledger keeps events from
    ``as_of`` on (the first day of its first period)."""
    problems = validate_policy(policy)
    if problems:
        raise ValidationError(problems)
    check_master_data(master)
    uow.master.setup(master, policy, roll_up(master, as_of), as_of.replace(day=1))
    if opening is not None:
        return post_events_in(uow, [opening])
    return None
