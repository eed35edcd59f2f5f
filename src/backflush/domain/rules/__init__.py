"""The posting rules: one module per kind of event, one way from an event to its posting.

:func:`post` is the whole of it: the period and date checks, the event's rule (a
:class:`~backflush.domain.drafts.Draft`), the negative-stock policy (:mod:`.stock`), and the
settlement that values stock and builds and checks every entry
(:func:`~backflush.domain.drafts.settle`). A summary entry goes through the very same
functions (:mod:`backflush.domain.summary`). Arithmetic runs in the exact context of
:mod:`backflush.domain.numbers`, whatever the caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import localcontext
from typing import Any

from backflush.domain.drafts import Draft, settle
from backflush.domain.errors import PostingError
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Issue,
    Opening,
    RateChange,
    Receipt,
    Release,
    Reopen,
    Reversal,
    Sale,
    Scrap,
    Signal,
    Transfer,
)
from backflush.domain.journal import Posting
from backflush.domain.numbers import EXACT
from backflush.domain.rules import stock
from backflush.domain.rules.aging import with_queue_age
from backflush.domain.rules.close import close
from backflush.domain.rules.completion import completion
from backflush.domain.rules.context import RuleContext, check_open
from backflush.domain.rules.count import count
from backflush.domain.rules.flows import receipt, sale
from backflush.domain.rules.issue import consume_in_process, issue
from backflush.domain.rules.movements import (
    conversion_incurred,
    release,
    scrap,
    signal,
    transfer,
)
from backflush.domain.rules.opening import opening
from backflush.domain.rules.reopen import reopen
from backflush.domain.rules.reversal import reversal
from backflush.domain.rules.standards import cost_change, rate_change
from backflush.domain.valuation import Books
from backflush.domain.view import LedgerView

RULES: dict[type[Event], Callable[[RuleContext, Any], Draft]] = {
    Receipt: receipt, ConversionIncurred: conversion_incurred, Completion: completion,
    Sale: sale, Scrap: scrap, Transfer: transfer, Count: count, Release: release,
    CostChange: cost_change, RateChange: rate_change, Reversal: reversal, Close: close,
    Opening: opening, Reopen: reopen, Signal: signal, Issue: issue,
}


def draft(ctx: RuleContext, event: Event) -> Draft:
    """The event's rule: what it posts, before the stock is valued."""
    rule = RULES.get(type(event))
    if rule is None:
        raise PostingError(event.id, f"unknown event type {type(event).__name__}", "type")
    try:
        with localcontext(EXACT):
            return rule(ctx, event)
    except ArithmeticError as exc:
        raise _inexact(event, exc) from None


def _inexact(event: Event, exc: ArithmeticError) -> PostingError:
    """A decimal signal: the event's amounts need more digits than the ledger keeps."""
    return PostingError(event.id, "its amounts cannot be kept exactly within the ledger's "
                        f"limits ({type(exc).__name__})", "qty")


def post(books: Books, view: LedgerView, event: Event, *, detail: bool = True,
         drafted: Callable[[RuleContext, Event], Draft] = draft) -> Posting:
    """The effects of ``event`` on the ledger ``view`` shows; raises PostingError (nothing
    of the event is posted then). ``drafted`` gives the event's draft: its rule, or the same
    draft kept from an earlier event of its shape."""
    ctx = RuleContext(books, view, detail)
    try:
        with localcontext(EXACT):
            check_open(ctx, event)
            planned = with_queue_age(ctx, event, stock.apply_policy(
                ctx, event, consume_in_process(ctx, event, drafted(ctx, event))))
            return settle(books, planned, event.id, event.date, view.on_hand_total,
                          view.pending_total, detail=detail)
    except ArithmeticError as exc:
        raise _inexact(event, exc) from None


__all__ = ["RULES", "RuleContext", "draft", "post"]
