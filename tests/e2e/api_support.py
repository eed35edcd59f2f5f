"""A ledger served by the real application (ASGI, in-process), with a token per role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

import backflush as bf
from backflush.bootstrap import Ledger
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import ROLES, create_token
from tests.e2e.support import STOOL

BASE = "/api/v1/ledgers/main"


@dataclass
class Api:
    client: TestClient
    ledger: Ledger
    secrets: dict[str, str]  # role -> token

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}

    def get(self, path: str, role: str = "viewer", **kw: Any) -> Any:
        return self.client.get(BASE + path, headers=self.auth(role), **kw)

    def post(self, path: str, body: Any = None, role: str = "operator", **kw: Any) -> Any:
        headers = {**self.auth(role), **kw.pop("headers", {})}
        return self.client.post(BASE + path, json=body, headers=headers, **kw)

    def balances(self) -> dict[str, str]:
        rows = self.get("/reports/trial-balance").json()["rows"]
        return {r["account"]: (r["debit"] or "-" + r["credit"]) for r in rows}

    def events(self) -> int:
        with self.ledger.unit_of_work(read_only=True) as uow:
            return uow.events.count()


def serve(ledger: Ledger, **more: Ledger) -> Iterator[Api]:
    """``ledger`` set up from the stool scenario (November, closed), served as ``main``."""
    bf.run_scenario(ledger.unit_of_work(), bf.load_scenario(STOOL))
    secrets = {role: create_token(ledger.unit_of_work(), role, f"test-{role}").secret
               for role in ROLES}
    with TestClient(create_app({"main": ledger, **more}),
                    raise_server_exceptions=False) as client:
        yield Api(client, ledger, secrets)


def serve_scenario(db_url: str, text: str) -> Iterator[Api]:
    """A new ledger at ``db_url`` set up from the scenario ``text``, served as ``main``,
    with a token per role."""
    ledger = bf.create_ledger(db_url)
    try:
        outcome = bf.run_scenario(ledger.unit_of_work(), bf.scenario_from_text(text))
        assert outcome.ok, outcome.errors
        secrets = {role: create_token(ledger.unit_of_work(), role, f"test-{role}").secret
                   for role in ROLES}
        with TestClient(create_app({"main": ledger}), raise_server_exceptions=False) as c:
            yield Api(c, ledger, secrets)
    finally:
        ledger.close()


def completion(ident: str, qty: str = "2", **more: Any) -> dict[str, Any]:
    return {"id": ident, "type": "completion", "date": "2026-12-03", "item": "STOOL",
            "qty": qty, **more}


def floats_in(text: str) -> list[float]:
    """Every JSON number with a fraction or exponent in ``text`` (there should be none)."""
    found: list[float] = []

    def seen(value: str) -> Decimal:
        found.append(float(value))
        return Decimal(value)

    json.loads(text, parse_float=seen)
    return found
