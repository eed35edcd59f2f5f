"""The command line: run, demo, compare; exit codes and the JSON document."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from typer.testing import CliRunner

from backflush.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[1]
STOOL = ROOT / "examples" / "stool.yaml"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_run_prints_the_reports() -> None:
    code, out = invoke("run", str(STOOL))
    assert code == 0, out
    for heading in ("Journal", "Trial balance", "Stock on hand", "Variances measured"):
        assert heading in out
    assert "137,200.00" in out


def test_run_json_is_one_document_with_exact_decimals() -> None:
    code, out = invoke("run", str(STOOL), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["balances"]["Raw and In-Process Inventory"] == "1600.00"
    assert doc["balances"]["Finished Goods Inventory"] == "4200.00"
    assert doc["variances"] == {"conversion": "2700.00", "purchase_price": "1000.00"}
    assert sum(D(v) for v in doc["balances"].values()) == 0


def test_run_sequential_method() -> None:
    code, out = invoke("run", str(STOOL), "--json", "--method", "sequential")
    assert code == 0
    doc = json.loads(out)
    assert doc["balances"]["Materials Inventory"] == "1600.00"
    assert "Work in Process" not in doc["balances"]
    assert {e["type"] for e in doc["journal"]} >= {"issue", "conversion_applied", "completion"}


def test_invalid_scenario_exits_2_and_names_file_line_entry_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(STOOL.read_text().replace("qty: 9800", "qty: -9800"))
    code, out = invoke("run", str(bad))
    assert code == 2
    assert "nothing was posted" in out
    assert "bad.yaml:19, events[3] (WO-1), field 'qty': must not be negative" in out
    code, out = invoke("run", str(bad), "--json")
    assert code == 2 and json.loads(out)["journal"] == []


def test_malformed_yaml_exits_2_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nitems: [\n  {code: A\n")
    code, out = invoke("run", str(bad))
    assert code == 2 and "malformed YAML" in out and "bad.yaml:" in out


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, out = invoke("run", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read" in out


def test_refused_event_exits_1_and_posts_nothing(tmp_path: Path) -> None:
    text = STOOL.read_text().replace("disposition: write_off",
                                     "disposition: write_off\n  negative_stock: reject")
    bad = tmp_path / "short.yaml"
    bad.write_text(text.replace("qty: 9800", "qty: 10001"))
    code, out = invoke("run", str(bad), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["journal"] == [] and doc["errors"][0]["field"] == "qty"


def test_demo_runs_the_office_chair_plant() -> None:
    code, out = invoke("demo", "--json")
    assert code == 0
    doc = json.loads(out)
    assert len({e["event"] for e in doc["journal"]}) >= 500
    assert set(doc["variances"]) >= {"conversion", "purchase_price", "usage", "scrap"}
    assert any(a["code"] == "wrong_bom_line" and "CASTER-50" in a["message"]
               for a in doc["alerts"])
    code, out = invoke("demo")
    assert code == 0 and "Counts point at these BOM lines" in out


def test_compare_shows_both_methods_side_by_side() -> None:
    code, out = invoke("compare", str(STOOL), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["entries"]["sequential"] > doc["entries"]["backflush"]
    rows = {r["account"]: r for r in doc["balances"]}
    assert rows["Raw and In-Process Inventory"]["difference"] == "1600.00"
    assert rows["Cost of Goods Sold"]["difference"] == "0.00"
