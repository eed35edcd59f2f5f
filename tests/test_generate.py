"""The synthetic plant generator writes files the normal importers and `post` read."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from backflush.adapters.synthetic import PlantSpec, generate
from backflush.entrypoints.cli import app

runner = CliRunner()


def test_same_seed_same_files_and_other_seed_other_files(tmp_path: Path) -> None:
    spec = PlantSpec(items=40, depth=3, events=300, seed=3)
    a = generate(spec, tmp_path / "a")
    b = generate(spec, tmp_path / "b")
    c = generate(PlantSpec(items=40, depth=3, events=300, seed=4), tmp_path / "c")
    for pa, pb in zip(a.files, b.files, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert any(pa.read_bytes() != pc.read_bytes() for pa, pc in zip(a.files, c.files,
                                                                    strict=True))
    assert len((tmp_path / "a" / "events.jsonl").read_text().splitlines()) == 300


def test_a_generated_plant_imports_posts_and_verifies(tmp_path: Path) -> None:
    out = tmp_path / "plant"
    result = runner.invoke(app, ["generate", str(out), "--items", "50", "--depth", "5",
                                 "--fan-out", "4", "--events", "400", "--seed", "11"])
    assert result.exit_code == 0, result.output
    db = f"sqlite:///{tmp_path / 'g.db'}"

    def bf(*args: str) -> None:
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == 0, res.output

    bf("init", "--as-of", "2026-11-01")
    for kind in ("work-centers", "items", "routings", "boms"):
        bf("import", kind, str(out / f"{kind}.csv"), "--as-of", "2026-11-01")
    bf("post", str(out / "events.jsonl"))
    bf("verify")
    res = runner.invoke(app, ["explain", "E00000002", "--db", db, "--json"])
    assert res.exit_code == 0 and '"event"' in res.output


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", str(tmp_path), "--depth", "11"])
    assert result.exit_code == 2 and "depth must be from 1 to 10" in result.output
