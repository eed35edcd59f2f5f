"""Many rows at once, at the speed of the database's own bulk path: the one module of the
adapter that talks to the driver directly.

* SQLite: ``executemany`` of a multi-row ``INSERT ... VALUES (...), (...)``: one statement
  binds up to a few hundred rows, so the per-statement cost of SQLite and of the driver is
  paid once per few hundred rows (and an event's few dozen lines or moves are one statement:
  the durable path uses this module too). Events in bulk bind only their number, id and
  template; the rest comes from a temporary table of the templates (:func:`append_events`).
* PostgreSQL: ``COPY ... FROM STDIN`` from :data:`COPY_FROM` rows, a multi-row INSERT below.
* Upserts (``INSERT ... ON CONFLICT DO UPDATE``, kept balances) are multi-row on both.

Values come in already encoded the way :mod:`.codec` encodes them (decimals and dates as
their canonical text, which SQLite stores as is and PostgreSQL parses), so the rows written
here are the rows SQLAlchemy would have written. Driver errors leave as SQLAlchemy's
(:class:`sqlalchemy.exc.IntegrityError` and so on), like those of any other statement, for
the caller to handle or translate. The writes happen in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

Value = str | int | None
Row = Sequence[Value]

MAX_VARIABLES = 32_000  # SQLite binds at most 32,766 values a statement
ROWS_PER_INSERT = 200  # rows of one multi-row INSERT on SQLite
COPY_CHUNK = 5000  # rows handed to COPY per write
COPY_FROM = 500  # PostgreSQL: rows from which COPY beats a multi-row INSERT

EVENTS_PER_INSERT = 500  # SQLite: events of one INSERT ... SELECT (three values each)
TEMPLATES = "temp.backflush_templates"  # SQLite: the templates of one append_events
EVENT_COLUMNS = ("seq", "id", "type", "date", "item", "qty", "payload", "cost_version",
                 "entry_seq")


@contextmanager
def _driver_errors(conn: Connection, statement: str) -> Iterator[Any]:
    """The driver's connection, its errors raised as SQLAlchemy raises them."""
    raw = conn.connection.driver_connection
    dbapi = conn.dialect.dbapi
    assert raw is not None and dbapi is not None
    try:
        yield raw
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error,
                                  dialect=conn.dialect) from exc


def _copy_text(value: Value) -> str:
    """A value in COPY's text format (NULL as ``\\N``; the four special characters
    escaped)."""
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


_MARKS: dict[tuple[str, int, int], str] = {}  # placeholders, by driver style, width and rows


def _marks(conn: Connection, width: int, rows: int) -> str:
    """``(?, ?), (?, ?)``: the placeholders of a multi-row VALUES in the driver's style
    (worked out once for each shape: an event's statements come in a few shapes)."""
    key = (conn.dialect.name, width, rows)
    found = _MARKS.get(key)
    if found is None:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        one = "(" + ", ".join([mark] * width) + ")"
        found = _MARKS[key] = ", ".join([one] * rows)
    return found


def _insert_values(conn: Connection, table: str, columns: Sequence[str],
                   flat: list[Value], count: int, tail: str = "") -> None:
    """``count`` rows of ``len(columns)`` values each, flattened, as multi-row INSERTs:
    full statements by ``executemany``, then the rest in one. ``tail`` follows VALUES (an
    ``ON CONFLICT`` clause)."""
    width = len(columns)
    per = max(1, min(ROWS_PER_INSERT, MAX_VARIABLES // width))
    full = count - count % per
    step = per * width
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    with _driver_errors(conn, f"INSERT INTO {table}") as raw:
        cursor = raw.cursor()
        try:
            if full:
                cursor.executemany(head + _marks(conn, width, per) + tail,
                                   [flat[i:i + step] for i in range(0, full * width, step)])
            if full < count:
                cursor.execute(head + _marks(conn, width, count - full) + tail,
                               flat[full * width:])
        finally:
            cursor.close()


def _copy(conn: Connection, table: str, columns: Sequence[str], chunks: Iterator[str]) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with _driver_errors(conn, sql) as raw, raw.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


def insert_rows(conn: Connection, table: str, columns: Sequence[str],
                rows: Sequence[Row]) -> None:
    """Append ``rows`` (values in the order of ``columns``, encoded) to ``table``: COPY on
    PostgreSQL from :data:`COPY_FROM` rows, multi-row INSERTs otherwise (an event's few
    dozen rows are one statement)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        def chunks() -> Iterator[str]:
            for start in range(0, len(rows), COPY_CHUNK):
                yield "".join("\t".join(map(_copy_text, row)) + "\n"
                              for row in rows[start:start + COPY_CHUNK])
        _copy(conn, table, columns, chunks())
        return
    flat: list[Value] = [value for row in rows for value in row]
    _insert_values(conn, table, columns, flat, len(rows))


def upsert_rows(conn: Connection, table: str, columns: Sequence[str], keys: Sequence[str],
                rows: Sequence[Row]) -> None:
    """Insert ``rows``, or set the other columns of the rows whose ``keys`` are there
    (``INSERT ... ON CONFLICT DO UPDATE``; each key once among the rows)."""
    if not rows:
        return
    others = [c for c in columns if c not in keys]
    tail = (f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in others))
    flat: list[Value] = [value for row in rows for value in row]
    _insert_values(conn, table, columns, flat, len(rows), tail)


def append_events(conn: Connection, first_seq: int, ids: Sequence[str], index: Sequence[int],
                  tails: Sequence[tuple[Value, ...]]) -> None:
    """Append events numbered from ``first_seq``: row ``i`` is ``(seq, ids[i]) +
    tails[index[i]]``, a tail being the encoded values of the columns after the id (type,
    date, item, qty, payload, cost version, summary entry), worked out once per template.

    Raises :class:`sqlalchemy.exc.IntegrityError` when an id is taken (the unique index on
    the id); the caller undoes what was written (a savepoint).
    """
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        texts = ["\t".join(map(_copy_text, tail)) + "\n" for tail in tails]
        joined = "".join(ids)  # (one scan in C for COPY's special characters)
        plain = not ("\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined)
        del joined

        def chunks() -> Iterator[str]:
            for start in range(0, len(ids), COPY_CHUNK):
                stop = min(start + COPY_CHUNK, len(ids))
                part = ids[start:stop] if plain else [_copy_text(i) for i in ids[start:stop]]
                yield "".join([f"{first_seq + start + n}\t{event_id}\t{texts[t]}"
                               for n, (event_id, t) in enumerate(
                                   zip(part, index[start:stop], strict=True))])
        _copy(conn, "events", EVENT_COLUMNS, chunks())
        return
    _sqlite_events(conn, first_seq, ids, index, tails)


def _sqlite_events(conn: Connection, first_seq: int, ids: Sequence[str], index: Sequence[int],
                   tails: Sequence[tuple[Value, ...]]) -> None:
    """SQLite: the templates' values go into a temporary table once; each row binds only
    its number, id and template, and the INSERT takes the rest from the table (a third of
    the values to bind, the slowest part of a big insert). Rows keep their order: the VALUES
    list drives the join."""
    width = len(EVENT_COLUMNS) - 2
    with _driver_errors(conn, "INSERT INTO events") as raw:
        cursor = raw.cursor()
        try:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TEMPLATES} (n INTEGER PRIMARY KEY, "
                           + ", ".join(EVENT_COLUMNS[2:]) + ")")
            cursor.execute(f"DELETE FROM {TEMPLATES}")
            cursor.executemany(f"INSERT INTO {TEMPLATES} VALUES (?{', ?' * width})",
                               [(n, *tail) for n, tail in enumerate(tails)])
            flat: list[Value] = []
            extend = flat.extend
            for seq, (event_id, t) in enumerate(zip(ids, index, strict=True), first_seq):
                extend((seq, event_id, t))
            count, per = len(ids), EVENTS_PER_INSERT
            full = count - count % per
            if full:
                cursor.executemany(_from_templates(per),
                                   [flat[i:i + 3 * per] for i in range(0, 3 * full, 3 * per)])
            if full < count:
                cursor.execute(_from_templates(count - full), flat[3 * full:])
            cursor.execute(f"DELETE FROM {TEMPLATES}")
        finally:
            cursor.close()


def _from_templates(rows: int) -> str:
    taken = ", ".join(f"t.{c}" for c in EVENT_COLUMNS[2:])
    return (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
            f"SELECT v.column1, v.column2, {taken} FROM (VALUES "
            + ", ".join(["(?, ?, ?)"] * rows)
            + f") AS v CROSS JOIN {TEMPLATES} AS t WHERE t.n = v.column3")
