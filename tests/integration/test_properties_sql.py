"""The property tests of tests/unit/test_properties.py on the stored ledgers: SQLite and
PostgreSQL, every event in its own transaction (fewer examples: each event is a commit)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backflush.domain.policy import Policy
from tests.harness import SETTINGS, run_stream
from tests.model import Plant, plants, policies, streams


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
@settings(SETTINGS, max_examples=int(os.environ.get("BACKFLUSH_SQL_EXAMPLES", "25")),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data(), plant=plants(), policy=policies())
def test_invariants_hold_after_every_event_in_sqlite_and_postgresql(
        backend: str, data: st.DataObject, plant: Plant, policy: Policy) -> None:
    """The same property, on the stored ledgers (fewer examples: each event is a commit)."""
    events = data.draw(streams(plant))
    run_stream(plant, policy, events)


