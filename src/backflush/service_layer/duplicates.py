"""Idempotency: the same id with the same content is a duplicate, with other content a
refusal (posting-rules §5)."""

from __future__ import annotations

from backflush.domain.errors import DuplicateEventError
from backflush.domain.events import Event
from backflush.service_layer.batch import Located


def same(a: Event, b: Event) -> bool:
    """The same content (numbers compared by value: 1.50 and 1.5 are the same)."""
    return a.content() == b.content()


def changed_fields(old: Event, new: Event) -> list[str]:
    """The fields whose content differs (``type`` when the events are of other types)."""
    a, b = old.content(), new.content()
    if a["type"] != b["type"]:
        return ["type"]
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def refuse_changed(event: Event, posted: Event | None = None) -> DuplicateEventError:
    """The id was posted before as ``posted`` (when known): the message and ``fields``
    name the fields that differ (``field`` stays ``id``: the id is what was reused)."""
    changed = changed_fields(posted, event) if posted is not None else []
    differs = f" ({', '.join(changed)} differ{'s' if len(changed) == 1 else ''})" \
        if changed else ""
    exc = DuplicateEventError(event.id, f"this id was posted before with different content"
                              f"{differs}; use a new id, or reverse the original first",
                              "id")
    exc.fields = tuple(changed)
    return exc


def refuse_repeated(where: Located, first: Located) -> DuplicateEventError:
    """An id used twice in one batch with different content."""
    at = f"line {first.line}" if first.line else (first.entry or "earlier")
    exc = DuplicateEventError(where.event.id, f"this id is used earlier in the batch ({at}) "
                              "with different content", "id")
    exc.locate(where.source, where.line, where.entry)
    return exc
