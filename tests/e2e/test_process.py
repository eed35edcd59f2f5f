"""The command as a real process: conventions (--version, -h, bare help, examples), usage
errors, broken pipes, internal errors, and what ``backflush --help`` imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import backflush
from tests.e2e.support import STOOL, bf, no_traceback, ok, process, stool_ledger

COMMANDS = ("run", "demo", "compare", "init", "import", "post", "close", "reopen", "report",
            "explain",
            "verify", "generate")
HEAVY = ("sqlalchemy", "alembic", "openpyxl", "pydantic", "msgspec", "yaml")


def test_version() -> None:
    out = process("--version")
    assert out.code == 0 and out.stdout == f"backflush {backflush.__version__}\n"


def test_bare_command_and_both_help_options_show_the_help() -> None:
    bare, short, long = process(), process("-h"), process("--help")
    assert bare.code == short.code == long.code == 0
    assert bare.stdout == short.stdout == long.stdout
    for name in COMMANDS:
        assert name in long.stdout
    assert "Exit codes: 0 done" in long.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    out = process(name, "-h")
    assert out.code == 0 and ("Example:" in out.stdout or "Examples:" in out.stdout)
    assert f"backflush {name}" in out.stdout
    assert "Exit codes:" in out.stdout


def test_choices_are_listed_in_the_help() -> None:
    assert "items|boms|routings|work-centers|kanban|costs" in process("import", "-h").stdout
    report = process("report", "-h").stdout
    assert "trial-balance|stock|variances|journal" in report and "table|csv|json|xlsx" in report
    assert "auto|per_event|summary" in process("init", "-h").stdout
    assert "backflush|sequential" in process("run", "-h").stdout


def test_shell_completion_completes_commands_and_choices() -> None:
    def complete(words: str, index: int) -> list[str]:
        run = subprocess.run([sys.executable, "-m", "backflush"], capture_output=True,
                             text=True, env={**os.environ, "_BACKFLUSH_COMPLETE": "complete_bash",
                                             "COMP_WORDS": words, "COMP_CWORD": str(index)})
        return run.stdout.split()

    assert complete("backflush rep", 1) == ["report"]
    assert complete("backflush report ", 2) == ["trial-balance", "stock", "variances",
                                                "journal", "income", "gaap",
                                                "analysis", "cost-sheet", "queue",
                                                "kpis", "bom-accuracy", "suitability",
                                                "kanban", "kanban-sizing"]
    assert "--install-completion" in process("--help").stdout


def test_help_imports_no_storage_files_or_validation_library() -> None:
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "backflush", "--help"],
                         capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines()
                if line.startswith("import time:")}
    assert not imported & set(HEAVY), imported & set(HEAVY)


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "No such command"),
    (["post"], "Missing argument"),
    (["report", "stock", "--colour"], "No such option"),
    (["post", "x.csv", "--batch-size", "many"], "--batch-size"),
])
def test_usage_errors_exit_2_with_one_message(args: list[str], message: str) -> None:
    out = process(*args)
    assert out.code == 2 and message in out.stderr, out.output
    no_traceback(out)


def test_a_usage_error_quoting_a_control_character_shows_it_escaped() -> None:
    out = process("report", "\x1b[2Jstock")
    assert out.code == 2 and "\x1b" not in out.output, out.output
    assert "\\x1b" in out.stderr or "\\u001b" in out.stderr


def test_a_broken_pipe_ends_quietly(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    ok("demo", "--db", db)
    with subprocess.Popen([sys.executable, "-m", "backflush", "report", "journal", "--db",
                           db, "--format", "csv"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.readline()
        child.stdout.close()  # like `| head -1`
        stderr = child.stderr.read().decode()
        child.wait(60)
    assert child.returncode == 0 and "Traceback" not in stderr, stderr


def test_an_internal_error_is_one_message_and_exit_70(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from backflush.service_layer import reports

    db = stool_ledger(f"sqlite:///{tmp_path / 'l.db'}")

    def broken(_: object) -> list[str]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(reports, "verify", broken)
    out = bf("verify", "--db", db)
    assert out.code == 70 and "Internal error" in out.stderr and "simulated bug" in out.stderr
    no_traceback(out)
    out = bf("--debug", "verify", "--db", db)
    assert out.code == 70 and "Traceback (most recent call last)" in out.stderr


def test_messages_go_to_stderr_and_documents_to_stdout() -> None:
    out = process("run", str(STOOL), "--json")
    assert out.code == 0 and out.stdout.startswith("{") and out.stderr == ""
    out = process("run", str(STOOL.with_name("missing.yaml")))
    assert out.code == 2 and out.stdout == "" and "cannot read" in out.stderr
