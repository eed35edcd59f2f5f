"""The ledger's tables. Money and quantities are stored losslessly on every backend.

SQLite has no decimal type (a plain ``Numeric`` column there stores a binary float), so
:class:`ExactDecimal` keeps canonical decimal text on SQLite and ``NUMERIC`` on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimal in, the same Decimal out: NUMERIC on PostgreSQL, canonical text on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(80))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


metadata = MetaData()
D = ExactDecimal

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

items = Table(
    "items", metadata,
    Column("code", String(100), primary_key=True),
    Column("uom", String(20), nullable=False),
    Column("made", Boolean, nullable=False),
    Column("phantom", Boolean, nullable=False),
    Column("finished", Boolean, nullable=True),
    Column("standard_cost", D, nullable=True),
    Column("conversion_cost", D, nullable=True),
    Column("description", Text, nullable=False, default=""),
)

bom_versions = Table(
    "bom_versions", metadata,
    Column("parent", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("frozen", Boolean, nullable=False, default=False),
)

bom_lines = Table(
    "bom_lines", metadata,
    Column("parent", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("component", String(100), nullable=False),
    Column("qty", D, nullable=False),
    Column("scrap", D, nullable=False),
)

work_centers = Table(
    "work_centers", metadata,
    Column("code", String(100), primary_key=True),
    Column("labor_rate", D, nullable=False),
    Column("overhead_rate", D, nullable=False),
    Column("conversion_rate", D, nullable=False),
)

routings = Table(
    "routings", metadata,
    Column("item", String(100), primary_key=True),
    Column("operation", Integer, primary_key=True),
    Column("work_center", String(100), nullable=False),
    Column("run_hours", D, nullable=False),
    Column("setup_hours", D, nullable=False),
    Column("lot_size", D, nullable=False),
)

cost_versions = Table(
    "cost_versions", metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("effective_from", Date, nullable=False),
    Column("event_id", String(200), nullable=True),
    Column("frozen", Boolean, nullable=False, default=False),
)

standard_costs = Table(
    "standard_costs", metadata,
    Column("version", Integer, ForeignKey("cost_versions.number"), primary_key=True),
    Column("item", String(100), primary_key=True),
    Column("input_standard_cost", D, nullable=True),
    Column("input_conversion_cost", D, nullable=True),
    *(Column(f"{level}_{element}", D, nullable=False)
      for level in ("this", "lower")
      for element in ("material", "labor", "overhead", "conversion")),
    Column("hours", Text, nullable=False, default="{}"),
    Column("bom", String(120), nullable=False, default=""),
)

periods = Table(
    "periods", metadata,
    Column("period", String(7), primary_key=True),
    Column("closed_through", Date, nullable=False),
    Column("close_event", String(200), nullable=False),
)

events = Table(
    "events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False),
    Column("type", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("item", String(100), nullable=True),
    Column("qty", D, nullable=True),
    Column("payload", Text, nullable=True),  # the fields not in a column, as JSON
    Column("reversed_by", String(200), nullable=True),
    Column("cost_version", Integer, nullable=False),  # the standards it was posted at
    # Posted in a summary: the summary entry's seq (0 when the summary had no entry).
    Column("entry_seq", Integer, nullable=True),
    UniqueConstraint("id", name="uq_events_id"),
)
Index("ix_events_reversed", events.c.reversed_by,
      sqlite_where=events.c.reversed_by.isnot(None),
      postgresql_where=events.c.reversed_by.isnot(None))

journal_entries = Table(
    "journal_entries", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("date", Date, nullable=False),
    Column("type", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("cost_version", Integer, nullable=False),
    Column("bom", String(120), nullable=False),
    Column("cogs_material", D, nullable=False),
    Column("cogs_conversion", D, nullable=False),
)
Index("ix_journal_entries_event", journal_entries.c.event_id)
Index("ix_journal_entries_date", journal_entries.c.date)

journal_lines = Table(
    "journal_lines", metadata,
    Column("entry_seq", Integer, ForeignKey("journal_entries.seq"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("account", String(200), nullable=False),
    Column("role", String(60), nullable=True),
    Column("debit", D, nullable=False),
    Column("credit", D, nullable=False),
    Column("memo", Text, nullable=False),
    Column("family", String(40), nullable=True),
)
Index("ix_journal_lines_account", journal_lines.c.account)

derivations = Table(
    "derivations", metadata,
    Column("entry_seq", Integer, ForeignKey("journal_entries.seq"), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("item", String(100), nullable=False),
    Column("qty", D, nullable=False),
    Column("basis", Text, nullable=False),
    Column("amount", D, nullable=False),
    Column("account", String(200), nullable=False),
    Column("bom", String(120), nullable=False),
    Column("location", String(100), nullable=False),
)

stock_moves = Table(
    "stock_moves", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
    Column("date", Date, nullable=False),
    Column("item", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("qty", D, nullable=False),
    Column("kind", String(20), nullable=False),
    # Summary moves: the item a backflush was for ("" per event: the event says).
    Column("parent", String(100), nullable=False, server_default=""),
)
Index("ix_stock_moves_event", stock_moves.c.event_seq)
# By date, not by item: an event's moves share its date (one place in the index per commit).
Index("ix_stock_moves_date", stock_moves.c.date)

stock_balances = Table(
    "stock_balances", metadata,
    Column("item", String(100), primary_key=True),
    Column("location", String(100), primary_key=True),
    Column("qty", D, nullable=False),
)

pending_changes = Table(
    "pending_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
    Column("item", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("qty", D, nullable=False),
    Column("source", String(200), nullable=False),
)
Index("ix_pending_changes_event", pending_changes.c.event_seq)

pending_issues = Table(
    "pending_issues", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("source", String(200), nullable=False),
    Column("qty", D, nullable=False),
)

account_balances = Table(
    "account_balances", metadata,
    Column("account", String(200), primary_key=True),
    Column("balance", D, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("code", String(60), nullable=False),
    Column("message", Text, nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq"), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("parent", String(100), nullable=False),
    Column("component", String(100), nullable=False),
    Column("bom", String(120), nullable=False),
    Column("bom_qty", D, nullable=False),
    Column("suggested_qty", D, nullable=False),
    Column("backflushed", D, nullable=False),
    Column("difference", D, nullable=False),
)
