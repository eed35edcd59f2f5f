"""Events: one at a time or a batch, idempotent by their ids (and a batch's
``Idempotency-Key``); the event log, the journal and the audit trail of an event."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from backflush.adapters.files import stream_events
from backflush.adapters.files.limits import Problems
from backflush.adapters.files.scenario import EventReader
from backflush.domain.errors import PostingError, Problem, ValidationError
from backflush.entrypoints.http import convert, deps
from backflush.entrypoints.http import models as m
from backflush.entrypoints.http.deps import Caller, caller
from backflush.entrypoints.http.problems import (
    BODY_RESPONSES,
    PROBLEM_RESPONSES,
    ApiError,
    of_error,
)
from backflush.service_layer.access import Access, Answer, needed_to_post, once
from backflush.service_layer.batch import Flows, Item, Located
from backflush.service_layer.posting import CompletionHeld, post_events_in
from backflush.service_layer.reports import page
from backflush.service_layer.unit_of_work import UnitOfWork

router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)
REPLAYED = "Idempotent-Replayed"
EVENT_BODY = {"$ref": "#/components/schemas/Event"}
BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "required": ["events"],
                                        "properties": {"events": {"type": "array",
                                                                  "items": EVENT_BODY}}}},
        "application/x-ndjson": {"schema": {"type": "string",
                                            "description": "One event per line (JSON Lines)"}},
    },
}
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
After = Annotated[str | None, Query(description="The cursor of the page before "
                                    "(`next` of the previous page).")]


def reader(uow: UnitOfWork) -> EventReader:
    return EventReader(None, uow.master.master(), Problems(), ledger=True)


def one(raw: Any, uow: UnitOfWork, who: Caller) -> Located:
    """The request's event, read as a file's event is (schema, domain checks, references),
    and allowed to the caller's role."""
    events = reader(uow)
    located = events.read(raw, 0)
    if located is None:
        raise ValidationError([Problem(p.entry.replace("events[0]", "event", 1), p.field,
                                       p.message) for p in events.problems.listed])
    who.need(needed_to_post(located.event.type), f"posting a {located.event.type}")
    return Located(located.event)  # (a refusal names it "event ID")


def json_response(model: m.Out, status: int = 200, replayed: bool = False) -> Response:
    return Response(model.model_dump_json(), status,
                    headers={REPLAYED: "true"} if replayed else None,
                    media_type="application/json")


@router.post("/events", status_code=201, summary="Post one event",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": EVENT_BODY}}}},
             responses={201: {"model": m.EventOut, "description": "Posted (or, with the "
                              "Idempotent-Replayed header, posted before with this content)"},
                        202: {"model": m.HeldOut, "description": "A completion that cannot "
                              "post yet, held in the queue (policy failed_backflush: hold)"},
                        **BODY_RESPONSES})
async def post_event(request: Request, who: Caller = caller(Access.OPERATOR)) -> Response:
    """Post one event. Its `id` is the idempotency key: the same id and content again
    returns the original answer with `Idempotent-Replayed: true`; the same id with other
    content is a 409 naming the fields that differ."""
    deps.media(request, ("application/json",))
    raw = deps.json_body(await deps.body(request, deps.MAX_EVENT_BYTES))

    def use() -> Response:
        try:
            out, replayed = deps.post(who, lambda uow: one(raw, uow, who))
        except CompletionHeld as held:
            return json_response(m.HeldOut(id=held.event_id, reason=held.why,
                                           detail=held.reason), 202)
        return json_response(out, 201, replayed)

    return await deps.threaded(use)


def allowed(items: Iterable[Item], who: Caller) -> Iterator[Item]:
    """The batch's events, each allowed to the caller's role (403 stops the batch)."""
    for item in items:
        if not isinstance(item, Flows):
            event = item.event if isinstance(item, Located) else item
            who.need(needed_to_post(event.type), f"posting a {event.type}")
        yield item


@router.post("/events/batch", summary="Post a batch of events",
             openapi_extra={"requestBody": BATCH_BODY},
             responses={200: {"model": m.BatchOut}, **BODY_RESPONSES})
async def post_batch(
        request: Request, who: Caller = caller(Access.OPERATOR),
        mode: Annotated[Literal["atomic", "each"], Query(
            description="atomic: every event or none (the plant-scale path); each: every "
            "event on its own, with a result per event")] = "atomic",
        idempotency_key: Annotated[str | None, Header(
            max_length=200, description="Replays the first answer to the same key and "
            "body; the same key with another body is a 409")] = None) -> Response:
    """Post thousands of events at once, as JSON (`{"events": [...]}`) or JSON Lines
    (`application/x-ndjson`, streamed). Ids already posted with the same content are
    replayed, not posted again."""
    kind = deps.media(request, ("application/json", *deps.JSONL))
    suffix = ".jsonl" if kind in deps.JSONL else ".json"
    limit = deps.MAX_BATCH_BYTES if mode == "atomic" else deps.MAX_EACH_BYTES
    path, digest = await deps.spooled(request, suffix, limit)
    fingerprint = hashlib.sha256(f"{mode}:{suffix}:{digest}".encode()).hexdigest()

    def atomic(uow: UnitOfWork) -> Answer:
        try:
            result = post_events_in(uow, allowed(stream_events(path, uow.master.master()),
                                                 who))
        except ValidationError as exc:
            raise deps.unplaced(exc) from None
        except PostingError as exc:
            exc.source = None
            raise
        out = m.BatchOut(mode="atomic", posted=result.posted, replayed=result.duplicates,
                         refused=0, summarised=result.summarised, held=result.held)
        return Answer(200, out.model_dump_json())

    def each(uow: UnitOfWork) -> Answer:
        out = m.BatchOut(mode="each", posted=0, replayed=0, refused=0, summarised=0,
                         results=[])
        assert out.results is not None
        for index, raw in enumerate(raw_events(path, suffix)):
            events = reader(uow)
            located = None if isinstance(raw, ValidationError) else events.read(raw, index)
            ident = raw.get("id") if isinstance(raw, dict) else None
            ident = ident if isinstance(ident, str) else None
            entry = located.entry if located is not None else f"events[{index}]"
            try:
                if isinstance(raw, ValidationError):
                    raise raw
                if located is None:
                    raise ValidationError(events.problems.listed)
                who.need(needed_to_post(located.event.type), f"posting a {located.event.type}")
                with uow.savepoint():
                    result = post_events_in(uow, [located])
            except (ValidationError, PostingError, ApiError) as exc:
                out.refused += 1
                doc = json.loads(bytes(of_error(exc).body))
                out.results.append(m.BatchItem(id=ident, entry=entry or "", status="refused",
                                               problem=doc))
                continue
            replayed = result.duplicates == 1
            out.replayed += replayed
            out.posted += not replayed and not result.held
            out.summarised += result.summarised
            out.held += result.held
            out.results.append(m.BatchItem(
                id=located.event.id, entry=entry or "",
                status="held" if result.held else "replayed" if replayed else "posted"))
        return Answer(200, out.model_dump_json())

    def use() -> Response:
        try:
            answer = deps.write(who, lambda: once(who.ledger.unit_of_work(), idempotency_key,
                                             fingerprint, atomic if mode == "atomic" else each))
        finally:
            os.unlink(path)
        return Response(answer.body, answer.status, media_type="application/json",
                        headers={REPLAYED: "true"} if answer.replayed else None)

    return await deps.threaded(use)


def raw_events(path: Any, suffix: str) -> Iterator[Any]:
    """A batch's events as sent (for ``mode=each``): every line of JSON Lines (a line that
    is not JSON comes as its ValidationError), or the ``events`` of a JSON document."""
    data = path.read_bytes()
    if suffix == ".jsonl":
        for number, line in enumerate(data.splitlines(), 1):
            if line.strip():
                try:
                    yield deps.json_body(line)
                except ValidationError as exc:  # this line is refused, the others go on
                    yield ValidationError([p.located(None, number) for p in exc.problems])
        return
    doc = deps.json_body(data)
    events = doc.get("events") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise ValidationError([Problem("body", "events", "expected a list of events, or "
                                       "{\"events\": [...]}")])
    yield from events


@router.get("/events", summary="The event log", response_model=m.EventPage)
def list_events(who: Caller = caller(Access.VIEWER), limit: Limit = 100,
                after: After = None,
                type: Annotated[str | None, Query(max_length=40)] = None) -> m.EventPage:
    """Events in posting order, a page at a time (`next` is the cursor of the next)."""
    start = deps.after(after, int) or 0

    def use(uow: UnitOfWork) -> m.EventPage:
        minor = uow.master.policy().minor_unit
        found = (s for s in uow.events.all(after=start)
                 if type is None or s.event.type == type)
        shown, last = page(found, limit)
        return m.EventPage(items=[convert.event(s, [], minor) for s in shown],
                           next=deps.cursor(last.seq) if last else None)

    return deps.read(who.ledger, use)


@router.get("/events/{event_id:path}", summary="One event and its entries",
            response_model=m.EventOut)
def get_event(event_id: str, who: Caller = caller(Access.VIEWER)) -> m.EventOut:
    def use(uow: UnitOfWork) -> m.EventOut:
        stored = uow.events.get(event_id)
        if stored is None:
            raise ApiError(404, "not_found", f"no event has the id {event_id!r}")
        entries = uow.journal.entries_of(event_id) if stored.summary is None else []
        return convert.event(stored, entries, uow.master.policy().minor_unit)

    return deps.read(who.ledger, use)


@router.get("/journal", summary="Journal entries", response_model=m.EntryPage)
def list_entries(who: Caller = caller(Access.VIEWER), limit: Limit = 100,
                 after: After = None) -> m.EntryPage:
    start = deps.after(after, int) or 0

    def use(uow: UnitOfWork) -> m.EntryPage:
        minor = uow.master.policy().minor_unit
        shown, last = page(uow.journal.entries(after=start), limit)
        return m.EntryPage(items=[convert.entry(s.seq, s.entry, minor) for s in shown],
                           next=deps.cursor(last.seq) if last else None)

    return deps.read(who.ledger, use)


@router.get("/explain/{key:path}", summary="The audit trail of an event or entry")
def explain(key: str, who: Caller = caller(Access.VIEWER)) -> dict[str, Any]:
    """By event id, or by journal entry number (`42`): the event, the standards and BOM it
    was posted at, every derivation, line and stock move."""
    from backflush.entrypoints.output.explain import explanation_json
    from backflush.service_layer import reports

    def use(uow: UnitOfWork) -> dict[str, Any]:
        found = reports.explain(uow, key)
        if found is None:
            raise ApiError(404, "not_found", f"no event or journal entry {key!r}")
        return explanation_json(found, uow.master.policy().minor_unit)

    return deps.read(who.ledger, use)
