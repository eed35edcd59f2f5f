"""Schemathesis against the API's own OpenAPI document: generated requests to every
operation, as an admin, must never get a server error, and every answer must match the
status codes, content types and schemas the document declares."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

import backflush as bf
from backflush.bootstrap import create_ledger
from backflush.entrypoints.http.app import create_app
from backflush.service_layer.access import create_token
from tests.e2e.support import STOOL

# A real SQLite ledger, as `backflush serve` would open, set up from the stool scenario.
LEDGER = create_ledger(f"sqlite:///{Path(tempfile.mkdtemp()) / 'schema.db'}")
bf.run_scenario(LEDGER.unit_of_work(), bf.load_scenario(STOOL))
SECRET = create_token(LEDGER.unit_of_work(), "admin", "schemathesis-admin").secret
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app({"main": LEDGER}))



@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: object, value: object) -> bytes:
    """A JSON Lines body: the string generated for it, or one line per generated event."""
    if isinstance(value, str):
        return value.encode()
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


@schemathesis.serializer("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def _workbook(ctx: object, value: object) -> bytes:
    """A workbook body: the bytes generated for it (never a valid workbook: a 422)."""
    return value if isinstance(value, bytes) else str(value).encode()


# Examples per operation (40 in CI: about half a minute; SCHEMATHESIS_EXAMPLES=300 to dig).
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {SECRET}"}, checks=CHECKS)
