"""Every failure a user can cause: one clear message, its documented exit code, no
traceback, and nothing changed (the ledger's trial balance and row counts as before; no
file created). One test per failure class."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.support import (
    STOOL,
    bf,
    digest,
    doc,
    files,
    no_traceback,
    ok,
    process,
    snapshot,
    stool_ledger,
    write,
    writing,
)

GOOD = '{"type": "receipt", "id": "%s", "date": "2026-12-02", "item": "LEG", "qty": 1, ' \
       '"unit_price": "1.00"}'
BAD = '{"type": "receipt", "id": "%s", "date": "2026-12-02", "item": "LEGG", "qty": 1, ' \
      '"unit_price": "1.00"}'


# ------------------------------------------------------------------ 2: the input is invalid
def test_invalid_input_lists_every_problem_and_counts_the_rest(sqlite_url: str,
                                                               tmp_path: Path) -> None:
    db = stool_ledger(sqlite_url)
    before = snapshot(db)
    rows = ["type,id,date,item,qty,unit_price"]
    rows += [f"receipt,R{i},2026-12-02,NOPE{i},1,1.00" for i in range(150)]
    path = write(tmp_path / "ev.csv", "\n".join(rows))
    out = bf("post", str(path), "--db", db)
    assert out.code == 2
    assert "Invalid input; nothing was changed:" in out.stderr
    assert "ev.csv:2, events[0] (R0), field 'item': unknown item 'NOPE0'" in out.flat
    assert "ev.csv:101, events[99] (R99)" in out.stderr  # the reader lists 100
    assert "\n  ... and 50 more\n" in out.stderr  # and counts the rest
    no_traceback(out)
    assert snapshot(db) == before


# ------------------------------------------------------------------ 1: an event was refused
def test_a_refused_event_names_file_line_entry_field_and_posts_nothing(
        db_url: str, tmp_path: Path) -> None:
    db = stool_ledger(db_url)
    before = snapshot(db)
    path = write(tmp_path / "late.jsonl", "\n".join([
        GOOD % "R1", '{"type": "receipt", "id": "R2", "date": "2026-11-30", "item": "LEG", '
        '"qty": 1, "unit_price": "1.00"}']))
    out = bf("post", str(path), "--db", db)
    assert out.code == 1, out.output
    assert "An event was refused; nothing of its batch was posted:" in out.stderr
    assert "late.jsonl:2, events[1] (R2)" in out.stderr and "closed" in out.stderr
    no_traceback(out)
    assert snapshot(db) == before


# ------------------------------------------------------------------ 3: partly posted
def test_a_bad_third_line_with_batches_of_one_says_batches_1_2_were_posted(
        db_url: str, tmp_path: Path) -> None:
    db = stool_ledger(db_url)
    path = write(tmp_path / "ev.jsonl", "\n".join([GOOD % "R1", GOOD % "R2", BAD % "R3",
                                                   GOOD % "R4"]))
    out = bf("post", str(path), "--db", db, "--batch-size", "1")
    assert out.code == 3, out.output
    assert "Partly posted: batches 1-2 were posted (2 events: 2 new, 0 duplicates " \
           "skipped); batch 3 was not, nor anything after it in the file." in out.flat
    assert "Batch 3 failed: the input is invalid:" in out.stderr
    assert "ev.jsonl:3, events[2] (R3), field 'item'" in out.stderr
    assert "post it again" in out.stderr and "nothing was changed" not in out.stderr
    no_traceback(out)
    events = {r["event"] for r in doc(ok("report", "journal", "--db", db, "--format", "json"))}
    assert {"R1", "R2"} <= events and not {"R3", "R4"} & events
    # Fixed and posted again: what was posted is skipped.
    path.write_text("\n".join([GOOD % "R1", GOOD % "R2", GOOD % "R3", GOOD % "R4"]) + "\n")
    out = bf("post", str(path), "--db", db, "--batch-size", "1")
    assert out.code == 0 and "Posted 2 events" in out.stdout and "2 duplicates" in out.stdout


def test_a_refused_event_after_committed_batches_is_partly_posted(sqlite_url: str,
                                                                  tmp_path: Path) -> None:
    db = stool_ledger(sqlite_url)
    late = '{"type": "receipt", "id": "R9", "date": "2026-11-30", "item": "LEG", "qty": 1, ' \
           '"unit_price": "1.00"}'
    path = write(tmp_path / "ev.jsonl", "\n".join([GOOD % "R1", GOOD % "R2", GOOD % "R3",
                                                   late]))
    out = bf("post", str(path), "--db", db, "--batch-size", "2")
    assert out.code == 3, out.output
    assert "Partly posted: batch 1 was posted (2 events" in out.flat
    assert "Batch 2 failed: an event was refused:" in out.stderr
    no_traceback(out)


# ------------------------------------------------------------------ 2: bad option values
@pytest.mark.parametrize(("args", "message"), [
    (["post", "{file}", "--batch-size", "-1"], "--batch-size"),
    (["close", "2026-13"], "period: must look like 2026-11"),
    (["import", "colours", "{file}"], "KIND"),
    (["import", "items", "{file}", "--as-of", "yesterday"], "--as-of: expected a date"),
    (["report", "balance-sheet"], "NAME"),
    (["report", "stock", "--format", "pdf"], "--format"),
    (["report", "stock", "--format", "xlsx"], "an xlsx report needs --output"),
    (["report", "stock", "--format", "csv", "--output", "{missing}/stock.csv"],
     "does not exist"),
    (["report", "stock", "--output", "{tmp}/stock.txt"], "a table is printed"),
    (["explain", "NOPE"], "no event or journal entry 'NOPE'"),
    (["generate", "{tmp}/plant", "--depth", "11"], "depth must be from 1 to 10"),
])
def test_bad_option_values_are_refused_before_anything_is_done(
        sqlite_url: str, tmp_path: Path, args: list[str], message: str) -> None:
    db = stool_ledger(sqlite_url)
    before, listing = snapshot(db), files(tmp_path)
    args = [a.format(file=str(STOOL), missing=str(tmp_path / "missing"), tmp=str(tmp_path))
            for a in args]
    out = process(*args, "--db", db) if args[0] != "generate" else process(*args)
    assert out.code == 2, out.output
    assert message in out.stderr, out.output
    no_traceback(out)
    assert snapshot(db) == before and files(tmp_path) == listing


def test_init_options_are_checked_before_a_database_is_created(tmp_path: Path) -> None:
    for args, message in (
            (["--as-of", "2026-02-30"], "--as-of: expected a date"),
            (["--currency", "XBT"], "give its decimal places with --minor-unit"),
            (["--currency", "U$"], "3-letter ISO 4217 code"),
            (["--minor-unit", "9"], "--minor-unit"),
            (["--journal", "weekly"], "--journal"),
            (["--from", str(STOOL), "--currency", "EUR"], "without --from")):
        out = process("init", "--db", f"sqlite:///{tmp_path / 'new.db'}", *args)
        assert out.code == 2 and message in out.stderr, out.output
        no_traceback(out)
        assert files(tmp_path) == set()
    out = process("init", "--db", f"sqlite:///{tmp_path / 'new.db'}", "--currency", "XBT",
                  "--minor-unit", "4")
    assert out.code == 0, out.output


# ------------------------------------------------------------------ 4: no ledger there
def test_a_mistyped_database_file_is_not_created(tmp_path: Path) -> None:
    for command in (["report", "stock"], ["post", str(STOOL)], ["verify"], ["close", "2026-11"],
                    ["import", "items", str(STOOL)], ["explain", "X"]):
        out = process(*command, "--db", f"sqlite:///{tmp_path / 'missing.db'}")
        assert out.code == 4, out.output
        assert "Cannot use the ledger; nothing was changed:" in out.stderr
        assert "no such database file" in out.stderr
        no_traceback(out)
    assert files(tmp_path) == set()


def test_an_empty_or_malformed_database_url_is_refused(tmp_path: Path) -> None:
    for url, message in (("", "no database given"), ("sqlite://", "names no file"),
                         ("mysql://u@h/db", "SQLite or PostgreSQL"),
                         ("::not a url::", "is not a database URL")):
        for command in (["report", "stock"], ["init"], ["run", str(STOOL)]):
            out = process(*command, "--db", url, cwd=tmp_path)
            assert out.code == 4, (url, command, out.output)
            assert message in out.stderr, out.output
            no_traceback(out)
    assert files(tmp_path) == set()


def test_a_foreign_sqlite_database_is_left_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ACME')")
    conn.commit()
    conn.close()
    before, listing = digest(path), files(tmp_path)
    url = f"sqlite:///{path}"
    for command in (["init"], ["init", "--from", str(STOOL)], ["report", "stock"], ["verify"],
                    ["post", str(STOOL)], ["close", "2026-11"], ["explain", "X"],
                    ["import", "items", str(STOOL)], ["run", str(STOOL)], ["demo"]):
        out = process(*command, "--db", url)
        assert out.code == 4, (command, out.output)
        assert "not a backflush ledger" in out.stderr or "holds no backflush ledger" in \
            out.stderr, out.output
        no_traceback(out)
        assert digest(path) == before and files(tmp_path) == listing, command
    out = process("init", "--db", url, "--force")  # asked for: the ledger goes beside
    assert out.code == 0, out.output


def test_a_database_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n")
    before = digest(path)
    for command in (["init"], ["report", "stock"]):
        out = process(*command, "--db", f"sqlite:///{path}")
        assert out.code == 4 and "not a SQLite database" in out.stderr, out.output
        no_traceback(out)
    assert digest(path) == before


# ------------------------------------------------------------------ 4: the database fails
def test_a_read_only_database_is_refused_and_unchanged(sqlite_url: str,
                                                       tmp_path: Path) -> None:
    db = stool_ledger(sqlite_url)
    before = snapshot(db)
    path = write(tmp_path / "ev.jsonl", GOOD % "R1")
    out = process("post", str(path), "--db", db + "?mode=ro")
    assert out.code == 4, out.output
    assert "The database failed; nothing of the transaction was kept:" in out.stderr
    assert "read-only" in out.stderr
    no_traceback(out)
    assert snapshot(db) == before


def test_an_unreachable_server_and_a_wrong_password_are_one_line_each(
        pg_engine: object) -> None:
    from sqlalchemy.engine import make_url

    from tests.support import PG_URL

    url = make_url(PG_URL)
    for bad, message in ((url.set(port=1), "cannot connect"),
                         (url.set(password="wrong-password"), "refused the login")):
        text = bad.render_as_string(hide_password=False)
        out = process("report", "stock", "--db", text)
        assert out.code == 4, out.output
        assert message in out.stderr and "wrong-password" not in out.output, out.output
        no_traceback(out)


def test_a_lock_never_released_ends_in_exit_4(sqlite_url: str, tmp_path: Path) -> None:
    db = stool_ledger(sqlite_url)
    before = snapshot(db)
    path = write(tmp_path / "ev.jsonl", GOOD % "R1")
    holder = sqlite3.connect(db.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the end of the test
    try:
        out = process("post", str(path), "--db", db, env={"BACKFLUSH_RETRY_SECONDS": "1"})
    finally:
        holder.rollback()
        holder.close()
    assert out.code == 4, out.output
    assert "stayed locked by other writers" in out.stderr and "gave up after" in out.stderr
    no_traceback(out)
    assert snapshot(db) == before


# ------------------------------------------------------------------ 130: interrupted
def test_ctrl_c_mid_post_posts_nothing_of_the_batch(sqlite_url: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    db = stool_ledger(sqlite_url)
    before = snapshot(db)
    path = tmp_path / "many.jsonl"
    path.write_text("".join(GOOD % f"R{i}" + "\n" for i in range(300_000)))
    child = subprocess.Popen([sys.executable, "-m", "backflush", "post", str(path), "--db", db],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not writing(db):  # its transaction has begun: reading and posting
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never started its transaction"
        time.sleep(0.05)
    time.sleep(0.3)
    assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stdout + stderr
    assert "Interrupted; nothing of the batch in progress was posted." in stderr
    assert "Traceback" not in stdout + stderr
    assert snapshot(db) == before


# ------------------------------------------------------------------ never a traceback
def test_debug_shows_the_traceback_as_well(tmp_path: Path) -> None:
    out = process("--debug", "report", "stock", "--db", f"sqlite:///{tmp_path / 'no.db'}")
    assert out.code == 4 and "Traceback (most recent call last)" in out.stderr
    assert "no such database file" in out.stderr


def test_a_refused_run_into_a_new_database_leaves_no_file(tmp_path: Path) -> None:
    text = STOOL.read_text().replace("disposition: write_off",
                                     "disposition: write_off\n  negative_stock: reject")
    bad = write(tmp_path / "short.yaml", text.replace("qty: 9800", "qty: 10001"))
    out = process("run", str(bad), "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert out.code == 1 and "An event was refused; nothing was posted" in out.stderr
    no_traceback(out)
    assert files(tmp_path) == {"short.yaml"}
