"""What the readers hand over posts: scenarios run, streamed files post once and then are
all duplicates (an in-memory ledger, no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backflush.adapters.files import load_scenario, scenario_from_text, stream_events
from backflush.bootstrap import memory_ledger
from backflush.service_layer.posting import post_events
from backflush.service_layer.scenario import run_scenario
from backflush.service_layer.setup import set_up_ledger

ROOT = Path(__file__).resolve().parents[3]
STOOL = ROOT / "examples" / "stool.yaml"
DEMOS = [ROOT / "src" / "backflush" / "data" / "demo.yaml",
         Path("/tmp/old/backflush/data/demo.yaml")]


def test_the_good_scenarios_run() -> None:
    for path in [STOOL, *[p for p in DEMOS if p.exists()][:1]]:
        scenario = load_scenario(path)
        outcome = run_scenario(memory_ledger().unit_of_work(), scenario)
        assert outcome.ok, outcome.errors
        assert outcome.result is not None and outcome.result.posted == len(scenario.events)


def test_an_id_repeated_with_the_same_content_is_a_duplicate_for_posting() -> None:
    again = "  - {type: receipt, date: 2026-11-02, item: SEAT, qty: 10000, " \
            "unit_price: 5.1, id: PO-1}\n"
    text = STOOL.read_text().replace("  - {type: close", again + "  - {type: close")
    outcome = run_scenario(memory_ledger().unit_of_work(), scenario_from_text(text))
    assert outcome.ok and outcome.result is not None
    assert outcome.result.duplicate_ids == ["PO-1"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_streamed_file_posts_once(tmp_path: Path, suffix: str) -> None:
    scenario = load_scenario(STOOL)
    ledger = memory_ledger()
    set_up_ledger(ledger.unit_of_work(), scenario.master, scenario.policy, scenario.as_of)
    rows = [{"type": "receipt", "id": f"R{i}", "date": "2026-11-02", "item": "SEAT",
             "qty": "10", "unit_price": "5.10"} for i in range(300)]
    rows += [{"type": "receipt", "id": f"L{i}", "date": "2026-11-02", "item": "LEG",
              "qty": "30", "unit_price": "1"} for i in range(300)]
    rows += [{"type": "completion", "id": f"W{i}", "date": "2026-11-03", "item": "STOOL",
              "qty": str(1 + i % 3)} for i in range(300)]
    rows.append({"type": "count", "id": "C1", "date": "2026-11-04", "item": "SEAT",
                 "qty": "100"})
    path = tmp_path / f"events{suffix}"
    if suffix == ".csv":
        header = ["type", "id", "date", "item", "qty", "unit_price"]
        path.write_text(",".join(header) + "\n" + "".join(
            ",".join(r.get(k, "") for k in header) + "\n" for r in rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    first = post_events(ledger.unit_of_work(), stream_events(path, scenario.master))
    assert (first.posted, first.duplicates) == (len(rows), 0)
    again = post_events(ledger.unit_of_work(), stream_events(path, scenario.master))
    assert (again.posted, again.duplicates) == (0, len(rows))
