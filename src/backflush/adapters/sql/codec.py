"""Events and the policy to and from JSON text, exactly (decimals as strings)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from backflush.domain.events import EVENT_TYPES, Event
from backflush.domain.opening import Opening, OpeningStock
from backflush.domain.policy import (
    ConversionMode,
    Disposition,
    Journal,
    Method,
    NegativeStock,
    Policy,
    Role,
    Stage,
)

DECIMAL_FIELDS = {"qty", "unit_price", "amount", "scrap_qty", "standard_cost",
                  "conversion_cost"}
DATE_FIELDS = {"date", "due"}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, OpeningStock):
        return {"item": value.item, "qty": format(value.qty, "f"), "location": value.location}
    return value


def event_to_json(event: Event) -> str:
    data = {"type": event.type, **{f.name: _plain(getattr(event, f.name)) for f in fields(event)}}
    return json.dumps(data, sort_keys=True)


COLUMNS = ("id", "type", "date", "item", "qty")  # event fields with a column of their own


_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {}  # by event class: the fields not in COLUMNS


def event_payload(event: Event) -> str | None:
    """The fields of ``event`` that have no column of their own, as JSON (None if none)."""
    names = _PAYLOAD_FIELDS.get(type(event))
    if names is None:
        names = _PAYLOAD_FIELDS[type(event)] = tuple(
            f.name for f in fields(event) if f.name not in COLUMNS)
    data = {name: _plain(getattr(event, name)) for name in names}
    return json.dumps(data, sort_keys=True) if data else None


def event_from_row(kind: str, event_id: str, when: date, item: str | None,
                   qty: Decimal | None, payload: str | None) -> Event:
    """The event stored in one row (rows from before 0002 keep everything in the payload)."""
    data: dict[str, Any] = json.loads(payload) if payload else {}
    data.update(type=kind, id=event_id, date=when.isoformat())
    if item is not None:
        data["item"] = item
    if qty is not None:
        data["qty"] = format(qty, "f")
    return _event(data)


def _event(data: dict[str, Any]) -> Event:
    kind = data.pop("type")
    if kind == "opening":
        return Opening(id=data["id"], date=date.fromisoformat(data["date"]),
                       stock=tuple(OpeningStock(s["item"], Decimal(s["qty"]), s["location"])
                                   for s in data["stock"]),
                       balances={k: Decimal(v) for k, v in data["balances"].items()})
    cls = EVENT_TYPES[kind]
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            kwargs[name] = None
        elif name in DECIMAL_FIELDS:
            kwargs[name] = Decimal(value)
        elif name in DATE_FIELDS:
            kwargs[name] = date.fromisoformat(value)
        elif name == "hours":
            kwargs[name] = tuple((wc, Decimal(h)) for wc, h in value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def policy_to_json(policy: Policy) -> str:
    return json.dumps({
        "triggers": sorted(s.value for s in policy.triggers),
        "conversion": policy.conversion.value,
        "disposition": {k: v.value for k, v in policy.disposition.items()},
        "negative_stock": policy.negative_stock.value,
        "accounts": {r.value: n for r, n in policy.accounts.items()},
        "method": policy.method.value,
        "minor_unit": policy.minor_unit,
        "currency": policy.currency,
        "count_tolerance": format(policy.count_tolerance, "f"),
        "journal": policy.journal.value,
    }, sort_keys=True)


def policy_from_json(text: str) -> Policy:
    d = json.loads(text)
    return Policy(frozenset(Stage(s) for s in d["triggers"]), ConversionMode(d["conversion"]),
                  {k: Disposition(v) for k, v in d["disposition"].items()},
                  NegativeStock(d["negative_stock"]),
                  {Role(r): n for r, n in d["accounts"].items()}, Method(d["method"]),
                  int(d["minor_unit"]), d["currency"], Decimal(d["count_tolerance"]),
                  Journal(d.get("journal", "per_event")))
