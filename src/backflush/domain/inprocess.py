"""Components issued by hand: where they wait between their ``issue`` and the completion.

A BOM line ``flush: manual`` (an expensive or serialised part) is not backflushed: an
``issue`` event moves the component from its location into the **in-process location** of
the item being made, ``in-process/PARENT``, and the parent's completion consumes its
standard quantity from there (:mod:`backflush.domain.rules.issue`). The in-process location
is a location like any other in the stock subledger: its quantity is on hand, valued at
standard in the item's account (RIP holds materials wherever they are on the floor), shown
by the stock report, counted by a count, emptied back to stores by a transfer.
"""

from __future__ import annotations

from backflush.domain.text import CODE_MAX

PREFIX = "in-process/"
LONGEST_PARENT = CODE_MAX - len(PREFIX)  # a parent with manual lines has a code this long at most


def location(parent: str) -> str:
    """The in-process location of ``parent``: what was issued to it and not yet consumed."""
    return PREFIX + parent


def is_in_process(place: str) -> bool:
    return place.startswith(PREFIX)


def parent_of(place: str) -> str:
    """The item an in-process location holds components for ("" for another location)."""
    return place[len(PREFIX):] if is_in_process(place) else ""
