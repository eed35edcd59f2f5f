"""What the commands share: exit codes, the ``--db`` option, option checks, ledgers.

Nothing heavy is imported here at module level: ``backflush --help`` imports this module,
and must not pay for SQLAlchemy, Alembic, openpyxl, pydantic, msgspec or PyYAML.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from backflush.entrypoints.output.safety import shown

if TYPE_CHECKING:
    from backflush.bootstrap import Ledger
    from backflush.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")

# The documented exit codes (README, `backflush --help`).
OK = 0
REFUSED = 1  # an event was refused: nothing of its batch was posted (verify: not sound)
INVALID = 2  # the input or an option is invalid: nothing changed
PARTIAL = 3  # post --batch-size: some batches were committed before one failed
UNUSABLE = 4  # the ledger or database cannot be used
INTERNAL = 70  # a bug in backflush (EX_SOFTWARE): an uncommitted transaction is rolled back
INTERRUPTED = 130  # Ctrl-C: nothing of the batch in progress was posted

EXIT_CODES = (
    "Exit codes: 0 done; 1 an event was refused (nothing of its batch was posted), or "
    "verify found the ledger unsound; 2 the input or an option is invalid (nothing "
    "changed); 3 partly posted (post --batch-size: the batches listed were committed); "
    "4 the ledger or database cannot be used; 70 an internal error (a bug: --debug shows "
    "its traceback); 130 interrupted.")

DbOption = Annotated[str | None, typer.Option(
    "--db", metavar="URL",
    help="Database URL: sqlite:///PATH.db or postgresql://user:password@host/dbname "
         "(default: $BACKFLUSH_DB, else sqlite:///backflush.db).")]


class OptionError(Exception):
    """An option's value is refused (exit 2), before anything is read, posted or written."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(f"{option}: {message}")


@dataclass
class Committed:
    """A batch that was committed before a later one failed."""

    number: int
    posted: int
    duplicates: int

    @property
    def events(self) -> int:
        return self.posted + self.duplicates


class PartlyPosted(Exception):
    """``post --batch-size``: batches were committed, then one failed (exit 3). ``cause`` is
    what stopped the batch ``failed`` (mapped as it would be on its own, for its message)."""

    def __init__(self, committed: list[Committed], failed: int, cause: BaseException) -> None:
        self.committed, self.failed, self.cause = committed, failed, cause
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.committed)
        events = sum(c.events for c in self.committed)
        posted = sum(c.posted for c in self.committed)
        which = "batch 1 was" if n == 1 else f"batches 1-{n} were"
        return (f"{which} posted ({events} events: {posted} new, {events - posted} "
                f"duplicates skipped); batch {self.failed} was not, nor anything after it in "
                "the file.")


def day_option(value: str | None, option: str) -> date:
    """A ``YYYY-MM-DD`` option's date (default: today); OptionError when malformed."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise OptionError(option, f"expected a date such as 2026-11-01, got "
                          f"{shown(repr(value), markup=False)}") from None


def output_option(path: Path, option: str = "--output") -> Path:
    """A file to write: its folder must exist and be writable, and it must not be a folder
    (checked before the ledger is read, so nothing is done in vain)."""
    folder = path.parent if str(path.parent) else Path(".")
    shown_path = shown(str(path), markup=False)
    if not folder.is_dir():
        raise OptionError(option, f"{shown_path}: the folder {shown(str(folder), markup=False)}"
                          " does not exist")
    if path.is_dir():
        raise OptionError(option, f"{shown_path} is a folder; name a file")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OptionError(option, f"{shown_path}: permission denied")
    return path


def database(db: str | None) -> str:
    """The database URL to use (``--db``, ``$BACKFLUSH_DB``, the default), checked before
    anything else is done: a malformed or empty URL is a LedgerError (exit 4)."""
    from backflush.adapters.sql import database_url

    return database_url(db)


def new_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet (``init``, ``run --db``
    create it), else None: a command that fails after creating it removes it again, so a
    failed command leaves no file behind."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database:
        return None
    if database.startswith("file:"):
        database = database[len("file:"):].split("?", 1)[0]
    path = Path(database)
    return None if path.exists() else path


def discard(path: Path | None) -> None:
    """Remove a SQLite file this command created (and its WAL and shared-memory files)."""
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


@contextmanager
def opened(db: str | None) -> Iterator[Ledger]:
    """The ledger kept at ``db`` (never created here), closed at the end."""
    from backflush.bootstrap import open_ledger

    ledger = open_ledger(database(db))
    try:
        yield ledger
    finally:
        ledger.close()


def read(ledger: Ledger, fn: Callable[[UnitOfWork], T]) -> T:
    """``fn`` of the ledger in one read-only transaction."""
    with ledger.unit_of_work(read_only=True) as uow:
        return fn(uow)


RETRY_SECONDS = float(os.environ.get("BACKFLUSH_RETRY_SECONDS") or 120)


class GaveUp(Exception):
    """Other writers kept the database busy for :data:`RETRY_SECONDS` (a lock never
    released, a server overloaded): nothing of the transaction was kept (exit 4)."""

    def __init__(self, cause: Exception, attempts: int, seconds: float) -> None:
        self.cause, self.attempts, self.seconds = cause, attempts, seconds
        super().__init__(f"{cause} (gave up after {attempts} attempts in {seconds:.0f} s)")


def write(use_case: Callable[[], T], retried: list[int] | None = None) -> T:
    """A writing use case, run again while another writer got there first (each rerun is
    counted in ``retried``). A PostgreSQL serialization failure is over in milliseconds and
    worth many reruns; a SQLite lock that is never released makes each attempt wait out the
    busy timeout, so reruns stop after :data:`RETRY_SECONDS` in all (``$BACKFLUSH_RETRY_
    SECONDS``) with :class:`GaveUp` rather than after hours."""
    import time

    from backflush.domain.errors import ConcurrencyError
    from backflush.service_layer.unit_of_work import with_retries

    start = time.monotonic()
    attempts = [0]

    def attempt() -> T:
        attempts[0] += 1
        try:
            return use_case()
        except ConcurrencyError as exc:
            elapsed = time.monotonic() - start
            if elapsed >= RETRY_SECONDS:
                raise GaveUp(exc, attempts[0], elapsed) from exc
            raise

    def count(_: Exception) -> None:
        if retried is not None:
            retried.append(1)

    try:
        return with_retries(attempt, on_retry=count)
    except ConcurrencyError as exc:  # the last of with_retries' attempts
        raise GaveUp(exc, attempts[0], time.monotonic() - start) from exc
