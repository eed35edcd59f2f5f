"""Idempotency: the same id with the same content is a duplicate, with other content a
refusal (posting-rules §5)."""

from __future__ import annotations

from backflush.domain.errors import DuplicateEventError
from backflush.domain.events import Event
from backflush.service_layer.batch import Located


def same(a: Event, b: Event) -> bool:
    """The same content (numbers compared by value: 1.50 and 1.5 are the same)."""
    return a.content() == b.content()


def refuse_changed(event: Event) -> DuplicateEventError:
    return DuplicateEventError(event.id, "this id was posted before with different content; "
                               "use a new id, or reverse the original first", "id")


def refuse_repeated(where: Located, first: Located) -> DuplicateEventError:
    """An id used twice in one batch with different content."""
    at = f"line {first.line}" if first.line else (first.entry or "earlier")
    exc = DuplicateEventError(where.event.id, f"this id is used earlier in the batch ({at}) "
                              "with different content", "id")
    exc.locate(where.source, where.line, where.entry)
    return exc
