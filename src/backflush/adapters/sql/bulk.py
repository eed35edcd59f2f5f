"""Many rows at once, at the speed of the database's own bulk path: the one module of the
adapter that talks to the driver directly.

* SQLite: ``executemany`` of a multi-row ``INSERT ... VALUES (...), (...)``: one statement
  binds up to a few hundred rows, so the per-statement cost of SQLite and of the driver is
  paid once per few hundred rows (and an event's few dozen lines or moves are one statement:
  the durable path uses this module too). Events in bulk bind only their number, id and
  body: the events of a summary's slot share one body (:func:`append_events`).
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
from itertools import chain, islice
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

Value = str | int | None
Row = Sequence[Value]

MAX_VARIABLES = 32_000  # SQLite binds at most 32,766 values a statement
ROWS_PER_INSERT = 200  # rows of one multi-row INSERT on SQLite
COPY_CHUNK = 5000  # rows handed to COPY per write
COPY_FROM = 500  # PostgreSQL: rows from which COPY beats a multi-row INSERT

EVENTS_PER_INSERT = 500  # SQLite: events of one multi-row INSERT (three values each)
EVENT_COLUMNS = ("seq", "id", "body", "reversed_by")
BODY_COLUMNS = ("n", "type", "date", "item", "qty", "payload", "cost_version", "entry_seq")


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
                   flat: list[Value], count: int, tail: str = "",
                   per: int = ROWS_PER_INSERT) -> None:
    """``count`` rows of ``len(columns)`` values each, flattened, as multi-row INSERTs of
    ``per`` rows: full statements by ``executemany``, then the rest in one. ``tail`` follows
    VALUES (an ``ON CONFLICT`` clause)."""
    width = len(columns)
    per = max(1, min(per, MAX_VARIABLES // width))
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


def append_events(conn: Connection, first_seq: int, first_body: int, ids: Sequence[str],
                  index: Sequence[int], bodies: Sequence[Row]) -> None:
    """Append ``bodies`` numbered from ``first_body`` (the encoded values of the body's
    columns after its number: type, date, item, qty, payload, cost version, summary entry),
    then events numbered from ``first_seq``: event ``i`` is ``ids[i]`` with the body
    ``first_body + index[i]``. An event row binds three values; what it says is its body's.

    Raises :class:`sqlalchemy.exc.IntegrityError` when an id is taken (the unique index on
    the id); the caller undoes what was written (a savepoint).
    """
    if not ids:
        return
    if len(index) != len(ids):
        raise ValueError(f"{len(ids)} ids but {len(index)} body numbers")
    insert_rows(conn, "event_bodies", BODY_COLUMNS,
                [(first_body + n, *body) for n, body in enumerate(bodies)])
    seqs = range(first_seq, first_seq + len(ids))
    numbers = map(first_body.__add__, index)
    if conn.dialect.name == "postgresql":
        joined = "".join(ids)  # (one scan in C for COPY's special characters)
        plain = not ("\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined)
        del joined
        texts = ids if plain else [_copy_text(i) for i in ids]
        lines = map("{}\t{}\t{}\t\\N\n".format, seqs, texts, numbers)

        def chunks() -> Iterator[str]:
            while True:
                chunk = "".join(islice(lines, COPY_CHUNK))
                if not chunk:
                    return
                yield chunk
        _copy(conn, "events", EVENT_COLUMNS, chunks())
        return
    flat: list[Value] = list(chain.from_iterable(zip(seqs, ids, numbers, strict=True)))
    _insert_values(conn, "events", EVENT_COLUMNS[:3], flat, len(ids), per=EVENTS_PER_INSERT)
