"""The journal in SQL: entries, their lines and derivations, and the account balances kept.

Balances are kept in ``account_balances`` and read once per transaction (a ledger has a few
dozen accounts), then kept in memory for it: posting asks for the balance of every account it
touched, and gets it without a query; they are written back once, at commit. Each append
writes its rows with one statement a table, through :mod:`.bulk` (one multi-row INSERT for an
event's lines; COPY on PostgreSQL for a summary's thousands). A balance as of a date is summed
from the lines, exactly (:class:`~.codec.exact_sum`), by the index on the entries' dates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from backflush.adapters.sql import bulk
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import (
    date_text,
    decimal_text,
    derivations_from_json,
    derivations_to_json,
    exact_sum,
)
from backflush.adapters.sql.engine import Tx, is_unique_violation, translate
from backflush.domain.errors import ConcurrencyError
from backflush.domain.journal import JournalEntry, JournalLine
from backflush.domain.numbers import ZERO, add
from backflush.domain.policy import Role
from backflush.service_layer.ports import StoredEntry

PAGE = 2_000  # entries read per query when the whole journal is read
je, jl, ab = t.journal_entries.c, t.journal_lines.c, t.account_balances.c
_ENTRY = (je.seq, je.event_id, je.date, je.type, je.description, je.cost_version, je.bom,
          je.cogs_material, je.cogs_conversion)
_LINE = (jl.entry_seq, jl.account, jl.debit, jl.credit, jl.role, jl.memo, jl.family)
_LAST = select(func.max(je.seq))
_BALANCES = select(ab.account, ab.balance)
_ONE = select(*_ENTRY, je.derivations).where(je.seq == bindparam("seq"))
_OF_EVENT = select(*_ENTRY, je.derivations).where(
    and_(je.event_id == bindparam("id"), je.type != "summary")).order_by(je.seq)
_PAGE = select(*_ENTRY).where(je.seq > bindparam("after")).order_by(je.seq).limit(PAGE)
_LINES_BETWEEN = select(*_LINE).where(
    and_(jl.entry_seq >= bindparam("first"), jl.entry_seq <= bindparam("last"))
).order_by(jl.entry_seq, jl.line_no)
_LINES_OF = select(*_LINE).where(jl.entry_seq.in_(bindparam("seqs", expanding=True))
                                 ).order_by(jl.entry_seq, jl.line_no)
_JOINED = t.journal_lines.join(t.journal_entries, je.seq == jl.entry_seq)
_BALANCE_AS_OF = select(exact_sum(jl.debit), exact_sum(jl.credit)).select_from(_JOINED).where(
    and_(jl.account == bindparam("account"), je.date <= bindparam("as_of")))
_FAMILY = select(exact_sum(jl.debit), exact_sum(jl.credit)).select_from(_JOINED).where(
    and_(jl.account == bindparam("account"), jl.family == bindparam("family")))
_FAMILY_AS_OF = _FAMILY.where(je.date <= bindparam("as_of"))
_COGS = select(exact_sum(je.cogs_material), exact_sum(je.cogs_conversion)).where(
    and_(je.date >= bindparam("start"), je.date <= bindparam("end")))
_ENTRY_COLUMNS = ("seq", "event_seq", "event_id", "date", "type", "description",
                  "cost_version", "bom", "cogs_material", "cogs_conversion", "derivations")
_LINE_COLUMNS = ("entry_seq", "line_no", "account", "role", "debit", "credit", "memo",
                 "family")


def _line(row: Any) -> JournalLine:
    return JournalLine(row.account, row.debit, row.credit,
                       Role(row.role) if row.role is not None else None, row.memo, row.family)


def _entry(row: Any, lines: Sequence[JournalLine], derivations: str | None = None
           ) -> JournalEntry:
    return JournalEntry(row.event_id, row.date, row.type, row.description, tuple(lines),
                        derivations_from_json(derivations), row.cost_version, row.bom,
                        row.cogs_material, row.cogs_conversion)


def _net(debits: Decimal | None, credits: Decimal | None) -> Decimal:
    """Debits less credits, exactly (either sum is NULL when no line matched)."""
    return add(debits if debits is not None else ZERO,
               (credits if credits is not None else ZERO).copy_negate())


class SqlJournal:
    """Implements :class:`~backflush.service_layer.ports.Journal` in one transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._last: int | None = None  # the last entry number, once read
        self._balances: dict[str, Decimal] | None = None  # every account's, once read
        self._dirty: dict[str, Decimal] = {}  # balances not written yet (see flush)

    def save(self) -> object:
        return (self._last, None if self._balances is None else dict(self._balances),
                dict(self._dirty))

    def restore(self, saved: object) -> None:
        self._last, self._balances, self._dirty = cast(
            tuple[int | None, dict[str, Decimal] | None, dict[str, Decimal]], saved)

    def flush(self) -> None:
        """Write the balances changed since the last flush, once each (at commit: a row
        updated at every event would leave PostgreSQL a chain of versions to walk)."""
        if self._dirty:
            with self._tx.guard() as conn:
                bulk.upsert_rows(conn, "account_balances", ("account", "balance"),
                                 ("account",),
                                 [(a, decimal_text(b)) for a, b in self._dirty.items()])
            self._dirty = {}

    def _kept(self) -> dict[str, Decimal]:
        if self._balances is None:
            self._balances = {row.account: row.balance for row in self._tx.rows(_BALANCES)}
        return self._balances

    # ------------------------------------------------------------------ writing
    def append(self, event_seq: int | None, entries: Sequence[JournalEntry]) -> list[int]:
        if not entries:
            return []
        if self._last is None:
            self._last = int(self._tx.scalar(_LAST) or 0)
        first = self._last + 1
        seqs = list(range(first, first + len(entries)))
        balances = self._kept()
        changed: dict[str, Decimal] = {}  # (kept in memory once written, not before)
        for entry in entries:
            for ln in entry.lines:
                was = changed[ln.account] if ln.account in changed else balances.get(
                    ln.account, ZERO)
                changed[ln.account] = add(was, ln.net)
        rows: list[bulk.Row] = []
        lines: list[bulk.Row] = []
        for seq, e in zip(seqs, entries, strict=True):
            rows.append((seq, event_seq, e.event_id, date_text(e.date), e.type, e.description,
                         e.cost_version, e.bom, decimal_text(e.cogs_material),
                         decimal_text(e.cogs_conversion), derivations_to_json(e.derivations)))
            lines += [(seq, n, ln.account, None if ln.role is None else ln.role.value,
                       decimal_text(ln.debit), decimal_text(ln.credit), ln.memo, ln.family)
                      for n, ln in enumerate(e.lines, 1)]
        try:
            with self._tx.guard(integrity=True) as conn:
                bulk.insert_rows(conn, "journal_entries", _ENTRY_COLUMNS, rows)
                bulk.insert_rows(conn, "journal_lines", _LINE_COLUMNS, lines)
        except IntegrityError as exc:
            if not is_unique_violation(exc):  # (a line or entry the schema refuses)
                raise translate(exc, self._tx.engine) from None
            raise ConcurrencyError("another transaction posted entries meanwhile; running "
                                   "again is safe") from None
        self._dirty.update(changed)
        balances.update(changed)
        self._last = seqs[-1]
        return seqs

    # ------------------------------------------------------------------ reading
    def last_seq(self) -> int:
        if self._last is None:
            self._last = int(self._tx.scalar(_LAST) or 0)
        return self._last

    def entry(self, seq: int) -> StoredEntry | None:
        found = self._tx.rows(_ONE, {"seq": seq})
        if not found:
            return None
        lines = [_line(r) for r in self._tx.rows(_LINES_OF, {"seqs": [seq]})]
        return StoredEntry(seq, _entry(found[0], lines, found[0].derivations))

    def entries(self, after: int = 0) -> Iterator[StoredEntry]:
        while True:
            rows = self._tx.rows(_PAGE, {"after": after})
            if not rows:
                return
            lines: dict[int, list[JournalLine]] = {}
            for r in self._tx.rows(_LINES_BETWEEN, {"first": rows[0].seq,
                                                    "last": rows[-1].seq}):
                lines.setdefault(r.entry_seq, []).append(_line(r))
            yield from (StoredEntry(r.seq, _entry(r, lines.get(r.seq, ()))) for r in rows)
            if len(rows) < PAGE:
                return
            after = rows[-1].seq

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        rows = self._tx.rows(_OF_EVENT, {"id": event_id})
        if not rows:
            return []
        lines: dict[int, list[JournalLine]] = {}
        for r in self._tx.rows(_LINES_OF, {"seqs": [r.seq for r in rows]}):
            lines.setdefault(r.entry_seq, []).append(_line(r))
        return [StoredEntry(r.seq, _entry(r, lines.get(r.seq, ()), r.derivations))
                for r in rows]

    def balances(self) -> Mapping[str, Decimal]:
        return dict(self._kept())

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        if as_of is None:
            return self._kept().get(account, ZERO)
        row = self._tx.rows(_BALANCE_AS_OF, {"account": account, "as_of": as_of})[0]
        return _net(row[0], row[1])

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        params: dict[str, Any] = {"account": account, "family": family}
        if as_of is not None:
            params["as_of"] = as_of
        row = self._tx.rows(_FAMILY if as_of is None else _FAMILY_AS_OF, params)[0]
        return _net(row[0], row[1])

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        row = self._tx.rows(_COGS, {"start": start, "end": end})[0]
        return (row[0] if row[0] is not None else ZERO, row[1] if row[1] is not None else ZERO)
