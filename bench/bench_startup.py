"""Start-up: how long a user waits for `backflush --help` and for a small report.

Workload: the installed console script, run as a new process R times each (median and
best): `backflush --help`, and `backflush report trial-balance` on the demo's ledger (made
once with `backflush demo --db`). Baselines in the same run: `python -c pass` (the
interpreter alone) and `python -c "import sqlalchemy"` (the storage library a ledger
command needs). Also: what each command imports (`-X importtime`, top-level packages), and
the installed size of the runtime: backflush and every distribution it requires,
recursively, as the venv holds them (no development tool counted).

    .venv/bin/python bench/bench_startup.py [--runs R] [--json]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report

BIN = Path(sys.executable).parent
SCRIPT = str(BIN / "backflush")


def wall(argv: list[str], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "best_s": round(min(times), 3)}


def imports(argv: list[str]) -> dict[str, float]:
    """Milliseconds of import time by top-level package, the five largest."""
    run = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                         text=True, check=True)
    by: dict[str, int] = {}
    for line in run.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| (\s*)(\S+)", line)
        if m:
            top = m.group(3).split(".")[0]
            by[top] = by.get(top, 0) + int(m.group(1))
    return {k: round(v / 1000) for k, v in sorted(by.items(), key=lambda kv: -kv[1])[:5]}


def runtime_size_mb() -> tuple[float, list[str]]:
    """Bytes on disk of backflush's runtime closure (its requirements, recursively)."""
    seen: set[str] = set()
    todo = ["backflush"]
    total = 0
    while todo:
        name = re.split(r"[ ;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
        todo += [r for r in dist.requires or [] if "extra ==" not in r]
    return round(total / 1e6, 1), sorted(seen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'demo.db'}"
        subprocess.run([SCRIPT, "demo", "--db", db], stdout=subprocess.DEVNULL, check=True)
        tb = [SCRIPT, "report", "trial-balance", "--db", db]
        figures: dict[str, Any] = {
            "python -c pass": wall([sys.executable, "-c", "pass"], args.runs),
            "python -c 'import sqlalchemy'": wall([sys.executable, "-c", "import sqlalchemy"],
                                                  args.runs),
            "backflush --help": wall([SCRIPT, "--help"], args.runs),
            "backflush report trial-balance (demo ledger)": wall(tb, args.runs),
            "imports of --help, ms": imports([SCRIPT, "--help"]),
            "imports of report trial-balance, ms": imports(tb),
        }
    base = figures["python -c pass"]["median_s"]
    sqla = figures["python -c 'import sqlalchemy'"]["median_s"]
    helps = figures["backflush --help"]["median_s"]
    tb_s = figures["backflush report trial-balance (demo ledger)"]["median_s"]
    figures["ratio --help / python -c pass"] = round(helps / base, 1)
    figures["ratio report / python -c pass"] = round(tb_s / base, 1)
    figures["ratio report / import sqlalchemy"] = round(tb_s / sqla, 2)
    size, dists = runtime_size_mb()
    figures["runtime install, MB"] = size
    figures["runtime distributions"] = len(dists)
    report("startup", {"runs": args.runs, "target_s": 0.3}, figures, args.json)


if __name__ == "__main__":
    main()
