"""Setting a ledger up: master data, policy, the first cost version, opening balances."""

from __future__ import annotations

from datetime import date

from backflush.domain.errors import ValidationError
from backflush.domain.events import Opening
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.policy import Policy, validate_policy
from backflush.domain.rollup import roll_up
from backflush.service_layer.batch import BatchResult
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork


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
