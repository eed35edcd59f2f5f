"""Alert rules: what the posting rules flag for a person to look at, by the policy's
thresholds (``policy.alerts``).

Each rule has a stable ``code`` and raises its alert with the event that triggered it; its
message gives the figure and the threshold. A threshold is the figure *at which* the rule
fires (a count difference of exactly 5 % fires under ``count_difference_pct: 5``); a figure
of zero never fires; a threshold of ``None`` (``off`` in a file) switches the rule off.
The rules without a figure (negative stock, an unrecorded price variance, hours off the
routing) are switches.

============================  ==================================  ==================
code                          threshold (policy ``alerts:``)      default
============================  ==================================  ==================
negative_stock                negative_stock (on/off)             on
count_difference              count_difference_pct                5 (% of book qty)
purchase_price_variance       purchase_price_variance_pct         5 (% of standard)
pending_age                   pending_age_days                    7 (days)
under_over_applied            under_over_applied_pct              5 (% of applied)
price_variance_not_recorded   price_variance_not_recorded (on/off)  on
hours_off_routing             hours_off_routing (on/off)          on
============================  ==================================  ==================

The two price rules do not overlap: where the policy books the price variance (the
purchase trigger, or ``payables: received``) the percentage decides; where it cannot, any
price off standard raises ``price_variance_not_recorded``.

The rules are called from the posting rules (:mod:`backflush.domain.rules`) and, for what
depends on the ledger as it stands (negative stock, the queue's age), from the summary path
with the same functions, so an event raises the same alerts in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

from backflush.domain.errors import Problem
from backflush.domain.numbers import ROUNDING, ZERO, fmt_qty, fmt_unit

NEGATIVE_STOCK = "negative_stock"
COUNT_DIFFERENCE = "count_difference"
PURCHASE_PRICE_VARIANCE = "purchase_price_variance"
PENDING_AGE = "pending_age"
UNDER_OVER_APPLIED = "under_over_applied"
PRICE_VARIANCE_NOT_RECORDED = "price_variance_not_recorded"
HOURS_OFF_ROUTING = "hours_off_routing"
CODES = (NEGATIVE_STOCK, COUNT_DIFFERENCE, PURCHASE_PRICE_VARIANCE, PENDING_AGE,
         UNDER_OVER_APPLIED, PRICE_VARIANCE_NOT_RECORDED, HOURS_OFF_ROUTING)

MAX_PCT = Decimal(1000)  # a percentage threshold: 0 to 1000 %
MAX_DAYS = 3650
HUNDRED = Decimal(100)
SHOWN = Decimal("0.01")

Raised = list[tuple[str, str]]  # (code, message): what a draft carries


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """The policy's ``alerts`` section: a threshold (None: off) or a switch per rule."""

    negative_stock: bool = True
    count_difference_pct: Decimal | None = Decimal(5)
    purchase_price_variance_pct: Decimal | None = Decimal(5)
    pending_age_days: int | None = 7
    under_over_applied_pct: Decimal | None = Decimal(5)
    price_variance_not_recorded: bool = True
    hours_off_routing: bool = True

    def settings(self) -> dict[str, str | bool | int | None]:
        """As plain values (percentages as decimal text), for storage and display."""
        out: dict[str, str | bool | int | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = f"{value:f}" if isinstance(value, Decimal) else value
        return out

    @staticmethod
    def from_settings(values: Mapping[str, object]) -> AlertThresholds:
        """The thresholds :meth:`settings` gave (a setting not given: its default)."""
        default = AlertThresholds()
        kept: dict[str, object] = {}
        for f in fields(AlertThresholds):
            value = values.get(f.name, getattr(default, f.name))
            if f.name.endswith("_pct") and isinstance(value, str):
                value = Decimal(value)
            kept[f.name] = value
        return AlertThresholds(**kept)  # type: ignore[arg-type]


def validate_thresholds(t: AlertThresholds) -> list[Problem]:
    problems = []
    for name in ("count_difference_pct", "purchase_price_variance_pct",
                 "under_over_applied_pct"):
        value = getattr(t, name)
        if value is not None and not (isinstance(value, Decimal) and value.is_finite()
                                      and ZERO <= value <= MAX_PCT):
            problems.append(Problem("policy", f"alerts.{name}",
                                    f"a percentage from 0 to {MAX_PCT}, or off"))
    days = t.pending_age_days
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 0 <= days <= MAX_DAYS):
        problems.append(Problem("policy", "alerts.pending_age_days",
                                f"whole days from 0 to {MAX_DAYS}, or off"))
    for name in ("negative_stock", "price_variance_not_recorded", "hours_off_routing"):
        if not isinstance(getattr(t, name), bool):
            problems.append(Problem("policy", f"alerts.{name}", "on or off"))
    return problems


def _pct(value: Decimal) -> str:
    return f"{value.quantize(SHOWN, context=ROUNDING):f} %"


def _reaches(figure: Decimal, base: Decimal, threshold: Decimal) -> bool:
    """|figure| / |base| x 100 >= threshold, without dividing (a base of 0: always)."""
    if figure == 0:
        return False
    return base == 0 or abs(figure) * HUNDRED >= threshold * abs(base)


def _share(figure: Decimal, base: Decimal) -> str:
    return _pct(ROUNDING.divide(figure * HUNDRED, abs(base)))


# ---------------------------------------------------------------------------- the rules
def negative_stock(t: AlertThresholds, shortfall: str) -> Raised:
    """An issue took stock below zero (``shortfall``: where, what it needed, what it had)."""
    return [(NEGATIVE_STOCK, "stock went below zero: " + shortfall)] if t.negative_stock \
        else []


def count_difference(t: AlertThresholds, item: str, location: str, counted: Decimal,
                     book: Decimal) -> Raised:
    """A count's difference to book, as a share of the book quantity."""
    threshold, diff = t.count_difference_pct, counted - book
    if threshold is None or not _reaches(diff, book, threshold):
        return []
    share = _share(diff, book) if book > 0 else (
        "no stock on the books" if book == 0 else "the books were below zero")
    return [(COUNT_DIFFERENCE, f"{item} at {location}: {fmt_qty(counted)} counted against "
             f"{fmt_qty(book)} on the books, a difference of {fmt_qty(diff)} ({share}; "
             f"threshold {_pct(threshold)} of the book quantity)")]


def receipt_price(t: AlertThresholds, item: str, qty: Decimal, price: Decimal,
                  standard: Decimal, *, recorded: bool, variant: str) -> Raised:
    """A receipt's price against standard, where the policy books the difference as a
    purchase price variance (``recorded``): off by the threshold or more; where it cannot,
    off standard at all (none of the difference reaches the books)."""
    diff = price - standard
    if diff == 0:
        return []
    share = f"{'+' if diff > 0 else ''}{_share(diff, standard)}" if standard \
        else "the standard is 0"
    figure = (f"{item} received at {price:f} against standard {fmt_unit(standard)}: "
              f"{share} on {fmt_qty(qty)} received")
    out: Raised = []
    threshold = t.purchase_price_variance_pct
    if recorded and threshold is not None and _reaches(diff, standard, threshold):
        out.append((PURCHASE_PRICE_VARIANCE, f"{figure} (threshold {_pct(threshold)})"))
    if not recorded and t.price_variance_not_recorded:
        out.append((PRICE_VARIANCE_NOT_RECORDED, f"{figure}; purchase is not a trigger "
                    f"point under {variant}, so the price variance is not recorded"))
    return out


def under_over_applied(t: AlertThresholds, period: str, control: Decimal,
                       applied: Decimal) -> Raised:
    """At a close: Control − Applied over Applied (``applied`` as a positive amount)."""
    threshold, diff = t.under_over_applied_pct, control - applied
    if threshold is None or not _reaches(diff, applied, threshold):
        return []
    what = "under-applied" if diff > 0 else "over-applied"
    share = f"{_share(abs(diff), applied)} of applied" if applied else "nothing applied"
    return [(UNDER_OVER_APPLIED, f"{period}: conversion {what} by {abs(diff):f} (Control "
             f"{control:f} - Applied {applied:f}; {share}; threshold {_pct(threshold)})")]


def hours_off_routing(t: AlertThresholds, item: str, off: Sequence[str]) -> Raised:
    """Hours reported at work centers ``off`` (each with its hours) the routing does not
    use."""
    if not off or not t.hours_off_routing:
        return []
    return [(HOURS_OFF_ROUTING, f"{item}'s routing does not use {', '.join(off)}: applied "
             "at the work center's rates against no standard hours (an efficiency variance "
             "of their full amount)")]


Issue = tuple[str, str, str, date]  # item, location, the completion owed it, its date


class QueueAges:
    """The pending-age rule over a run of events: an issue of the queue is flagged by the
    event that first makes it ``pending_age_days`` old or older. Its age runs from its
    completion's date to the ledger's latest event date, which only grows, so each issue is
    flagged once, by one event (an issue parked already that old, by the event parking it).
    """

    def __init__(self, t: AlertThresholds, queue: Iterable[Issue], latest: date | None
                 ) -> None:
        self.days = t.pending_age_days
        self.queue = list(queue) if self.days is not None else []
        self.latest = latest

    def step(self, day: date, parked: Iterable[Issue] = (),
             cleared: frozenset[tuple[str, str, str]] = frozenset()) -> Raised:
        """The alerts of an event dated ``day`` (``parked``: the issues it parks;
        ``cleared``: the (item, location, completion) it clears entirely)."""
        before = self.latest
        now = self.latest = day if before is None or day > before else before
        days = self.days
        if days is None:
            return []
        out: Raised = []
        for issue, new in [*((i, False) for i in self.queue), *((i, True) for i in parked)]:
            item, location, source, since = issue
            age = (now - since).days
            if age < days or (item, location, source) in cleared:
                continue
            if not new and before is not None and (before - since).days >= days:
                continue  # flagged by an earlier event
            out.append((PENDING_AGE, f"{source}'s issue of {item} at {location} has been "
                        f"pending {age} day{'s' if age != 1 else ''}, since {since} "
                        f"(threshold {days} day{'s' if days != 1 else ''})"))
        return out
