"""File readers: scenario documents (YAML, JSON), event files (CSV, JSON Lines, XLSX and
scenario files' events) and master-data imports (CSV, XLSX).

Every reader either returns what the file says, as domain objects, or raises
:class:`~backflush.domain.errors.ValidationError` listing every problem found (up to
:data:`~.limits.MAX_PROBLEMS`, the rest counted), each naming the file, line, entry and
field; a hostile file is refused within bounded time and memory (:mod:`.limits`).

* :func:`load_scenario`, :func:`scenario_from_text`, :func:`scenario_from_data`: a
  scenario (:class:`~backflush.service_layer.scenario.Scenario`).
* :func:`stream_events`: a ledger's event file, streamed as
  :class:`~backflush.service_layer.batch.Located` events and
  :class:`~backflush.service_layer.batch.Flows` (columns of plain flows).
* :func:`read_items`, :func:`read_boms`, :func:`read_routings`, :func:`read_work_centers`,
  :func:`read_costs`: master-data imports.

The shapes of all of these are the pydantic models of :mod:`.schemas`, which know nothing of
files (the HTTP API validates request bodies with them).
"""

from backflush.adapters.files.events import stream_events
from backflush.adapters.files.masterdata import (
    IMPORT_KINDS,
    read_boms,
    read_costs,
    read_import,
    read_items,
    read_routings,
    read_work_centers,
)
from backflush.adapters.files.scenario import load_scenario, scenario_from_data, scenario_from_text

__all__ = [
    "IMPORT_KINDS",
    "load_scenario",
    "read_boms",
    "read_costs",
    "read_import",
    "read_items",
    "read_routings",
    "read_work_centers",
    "scenario_from_data",
    "scenario_from_text",
    "stream_events",
]
