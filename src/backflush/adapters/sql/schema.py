"""The ledger's tables, as SQLAlchemy Core metadata (the migrations write the same schema
with their own column types: a test compares the two on every backend).

Choices worth knowing:

* Money and quantities are :class:`~.codec.ExactDecimal` (text on SQLite, NUMERIC on
  PostgreSQL): never a float.
* ``events.seq``, ``event_bodies.n`` and ``journal_entries.seq`` are given by the adapter,
  not by the database:
  they are the numbers users see (``explain 42``), so they stay dense (a rolled-back insert
  leaves no gap, which a PostgreSQL sequence would).
* A summary's rows point at nothing: ``journal_entries.event_seq``, ``stock_moves.event_seq``
  and ``alerts.event_seq`` are NULL for them; ``event_bodies.entry_seq`` is the summary
  entry an event was posted in (0: the summary had no entry; NULL: posted on its own).
* An event row is narrow (number, id, body, reversal); what it says is its *body*, shared by
  the events of one slot of a summary (same content but the id, same day): a million
  completions write a million short rows and a few thousand bodies.
* An entry's derivations (its audit trail) are one JSON text on the entry: they are read only
  with their entry, never queried by column, and one value per entry keeps a durable posting
  to a handful of statements.
* Running balances are kept (``account_balances``, ``stock_balances``, ``pending_totals``) so
  the posting path reads a few rows, not the whole journal; ``backflush verify`` checks them
  against the lines and moves.
* Positions (``ord``) keep master data in the order it was given, so a ledger read back
  equals the one stored, mapping order included.
* ``settings`` holds the ledger's first day (``opened_on``), the lock date, the policy (JSON),
  the cost version in force, and ``revision``: a random stamp changed whenever master data,
  policy or costs change, which is what the cache of those is keyed by.
* ``api_tokens`` keeps a token's SHA-256, never the token; ``saved_responses`` the status
  and body of an idempotent HTTP request, replayed when the same key comes again.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from backflush.adapters.sql.codec import COST_COLUMNS, ExactDecimal

CODE = 100  # item, location and work-center codes (domain.text.CODE_MAX)
IDENT = 200  # event ids (domain.text.IDENT_MAX)
KEY = 120  # a BOM version key: a code, "@v" and the version

metadata = MetaData()
D = ExactDecimal

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

items = Table(
    "items", metadata,
    Column("code", String(CODE), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("uom", String(CODE), nullable=False),
    Column("standard_cost", D, nullable=True),
    Column("conversion_cost", D, nullable=True),
    Column("phantom", Boolean, nullable=False),
    Column("finished", Boolean, nullable=True),
    Column("made", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("backflush_from", String(CODE), nullable=True),
    Column("negative_stock", String(CODE), nullable=True),
)

bom_versions = Table(
    "bom_versions", metadata,
    Column("parent", String(CODE), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("ord", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
)

bom_lines = Table(
    "bom_lines", metadata,
    Column("parent", String(CODE), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("component", String(CODE), nullable=False),
    Column("qty", D, nullable=False),
    Column("scrap", D, nullable=False),
    Column("flush", String(CODE), nullable=False, server_default="backflush"),  # or manual
    ForeignKeyConstraint(["parent", "version"], ["bom_versions.parent", "bom_versions.version"],
                         name="fk_bom_lines_version"),
)

work_centers = Table(
    "work_centers", metadata,
    Column("code", String(CODE), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("labor_rate", D, nullable=False),
    Column("overhead_rate", D, nullable=False),
    Column("conversion_rate", D, nullable=False),
    # A period's budget by element, and its hours (all null: rates given, not budgeted).
    Column("budget_labor", D, nullable=True),
    Column("budget_overhead", D, nullable=True),
    Column("budget_conversion", D, nullable=True),
    Column("budget_hours", D, nullable=True),
)

routings = Table(
    "routings", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),  # position in the routing
    Column("ord", Integer, nullable=False),
    Column("operation", Integer, nullable=False),
    Column("work_center", String(CODE), nullable=False),
    Column("run_hours", D, nullable=False),
    Column("setup_hours", D, nullable=False),
    Column("lot_size", D, nullable=False),
)

cost_versions = Table(
    "cost_versions", metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("effective_from", Date, nullable=False),
    Column("event_id", String(IDENT), nullable=True),  # the cost change that made it
)

standard_costs = Table(
    "standard_costs", metadata,
    Column("version", Integer, ForeignKey("cost_versions.number", name="fk_standard_costs_version"),
           primary_key=True, autoincrement=False),
    Column("item", String(CODE), primary_key=True),
    Column("ord", Integer, nullable=False),
    *(Column(name, D, nullable=False) for name in COST_COLUMNS),
    Column("hours", Text, nullable=False),  # JSON [[work center, hours], ...]
    Column("bom", String(KEY), nullable=False),
)

closes = Table(
    "closes", metadata,
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("through", Date, nullable=False),
    Column("period", String(40), nullable=False),
    Column("event_id", String(IDENT), nullable=False),
)

# An event is its id and its body: what it says (type, date, item, qty, the other fields) and
# how it was posted (the standards, its summary entry). Events posted in a summary share the
# body of their slot, so a plant's day of completions is a few hundred bodies and a million
# narrow event rows; an event posted on its own has a body of its own. ``events.body`` has
# no foreign key: the event log writes a body before its events, in the same transaction,
# and a key checked row by row halved PostgreSQL's COPY of a million events (measured);
# `verify` checks that every event has its body.
event_bodies = Table(
    "event_bodies", metadata,
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("item", String(CODE), nullable=True),
    Column("qty", D, nullable=True),
    Column("payload", Text, nullable=True),  # the other fields, as JSON
    Column("cost_version", Integer, nullable=False),  # the standards it was posted at
    Column("entry_seq", Integer, nullable=True),  # its summary entry (0: none; NULL: its own)
)
# The ledger's latest date (the pending-age alert's clock), read without a scan.
Index("ix_event_bodies_date", event_bodies.c.date)

events = Table(
    "events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("id", String(IDENT), nullable=False),
    Column("body", Integer, nullable=False),
    Column("reversed_by", String(IDENT), nullable=True),
)
# The idempotency key, and what tells the bulk path an id was posted before.
Index("uq_events_id", events.c.id, unique=True)
# Reversed events (what a count asks of summarised completions). Partial: an event not
# reversed (nearly all of them) costs the index nothing.
Index("ix_events_reversed", events.c.body,
      sqlite_where=events.c.reversed_by.is_not(None),
      postgresql_where=events.c.reversed_by.is_not(None))

journal_entries = Table(
    "journal_entries", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("event_seq", Integer, ForeignKey("events.seq", name="fk_journal_entries_event"),
           nullable=True),
    Column("event_id", String(IDENT), nullable=False),
    Column("date", Date, nullable=False),
    Column("type", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("cost_version", Integer, nullable=False),
    Column("bom", String(KEY), nullable=False),
    Column("cogs_material", D, nullable=False),
    Column("cogs_conversion", D, nullable=False),
    Column("derivations", Text, nullable=False),  # JSON, "" for none
)
Index("ix_journal_entries_event", journal_entries.c.event_id)
Index("ix_journal_entries_date", journal_entries.c.date)

journal_lines = Table(
    "journal_lines", metadata,
    Column("entry_seq", Integer, ForeignKey("journal_entries.seq", name="fk_journal_lines_entry"),
           primary_key=True, autoincrement=False),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("account", Text, nullable=False),
    Column("role", String(60), nullable=True),
    Column("debit", D, nullable=False),
    Column("credit", D, nullable=False),
    Column("memo", Text, nullable=False),
    Column("family", String(40), nullable=True),
)
Index("ix_journal_lines_account", journal_lines.c.account)

account_balances = Table(
    "account_balances", metadata,
    Column("account", Text, primary_key=True),
    Column("balance", D, nullable=False),
)

stock_moves = Table(
    "stock_moves", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq", name="fk_stock_moves_event"),
           nullable=True),
    Column("date", Date, nullable=False),
    Column("item", String(CODE), nullable=False),
    Column("location", String(CODE), nullable=False),
    Column("qty", D, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("parent", String(CODE), nullable=False),  # summary moves: what it was backflushed for
)
Index("ix_stock_moves_event", stock_moves.c.event_seq)
# By date, not by item: an event's moves share its date (one place in the index per posting).
Index("ix_stock_moves_date", stock_moves.c.date)

stock_balances = Table(
    "stock_balances", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("location", String(CODE), primary_key=True),
    Column("qty", D, nullable=False),
)

pending_changes = Table(
    "pending_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq", name="fk_pending_changes_event"),
           nullable=False),
    Column("item", String(CODE), nullable=False),
    Column("location", String(CODE), nullable=False),
    Column("qty", D, nullable=False),
    Column("source", String(IDENT), nullable=False),
)
Index("ix_pending_changes_event", pending_changes.c.event_seq)

# Each place's FIFO queue of parked issues (source, qty), oldest first.
pending_queue = Table(
    "pending_queue", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("location", String(CODE), primary_key=True),
    Column("pos", Integer, primary_key=True, autoincrement=False),
    Column("source", String(IDENT), nullable=False),
    Column("qty", D, nullable=False),
)

# Parked quantity by item (the sum of its pending changes); items at zero have no row.
pending_totals = Table(
    "pending_totals", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("qty", D, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq", name="fk_alerts_event"),
           nullable=True),
    Column("event_id", String(IDENT), nullable=False),
    Column("code", String(60), nullable=False),
    Column("message", Text, nullable=False),
    Column("acknowledged_by", String(500), nullable=True),  # who, when (ISO, UTC) and why
    Column("acknowledged_on", String(32), nullable=True),  # NULL: the alert is open
    Column("note", Text, nullable=True),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_seq", Integer, ForeignKey("events.seq", name="fk_findings_event"),
           nullable=False),
    Column("event_id", String(IDENT), nullable=False),
    Column("parent", String(CODE), nullable=False),
    Column("component", String(CODE), nullable=False),
    Column("bom", String(KEY), nullable=False),
    Column("bom_qty", D, nullable=False),
    Column("suggested_qty", D, nullable=False),
    Column("backflushed", D, nullable=False),
    Column("difference", D, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(CODE), nullable=False),
    Column("role", String(20), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created", String(32), nullable=False),
    Column("revoked", Boolean, nullable=False),
)
Index("uq_api_tokens_digest", api_tokens.c.digest, unique=True)

saved_responses = Table(
    "saved_responses", metadata,
    Column("key", String(IDENT), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

# The shop floor (domain.kanban): supermarket items are master data; orders and signals are
# kept with the changes each event made (what a reversal takes back).
kanban_items = Table(
    "kanban_items", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("location", String(CODE), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("container_qty", D, nullable=False),
    Column("lead_time_days", D, nullable=False),
    Column("safety", D, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(IDENT), primary_key=True),
    Column("item", String(CODE), nullable=False),
    Column("open_qty", D, nullable=False),
)
Index("ix_orders_item", orders.c.item)

# Open released quantity by made item (the sum of its orders'); items at zero have no row.
order_totals = Table(
    "order_totals", metadata,
    Column("item", String(CODE), primary_key=True),
    Column("open_qty", D, nullable=False),
)

order_moves = Table(
    "order_moves", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(IDENT), nullable=False),
    Column("order_id", String(IDENT), nullable=False),
    Column("item", String(CODE), nullable=False),
    Column("qty", D, nullable=False),
)
Index("ix_order_moves_event", order_moves.c.event_id)

signals = Table(
    "signals", metadata,
    Column("source", String(IDENT), primary_key=True),
    Column("item", String(CODE), nullable=False),
    Column("location", String(CODE), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("qty", D, nullable=False),  # still open
)
Index("ix_signals_place", signals.c.item, signals.c.location)

signal_moves = Table(
    "signal_moves", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(IDENT), nullable=False),
    Column("source", String(IDENT), nullable=False),
    Column("item", String(CODE), nullable=False),
    Column("location", String(CODE), nullable=False),
    Column("qty", D, nullable=False),
)
Index("ix_signal_moves_event", signal_moves.c.event_id)

# Completions held unposted (domain.held: the failed-backflush queue), as the event bodies
# keep an event's fields; ``pos`` orders them, oldest first.
held_events = Table(
    "held_events", metadata,
    Column("event_id", String(IDENT), primary_key=True),
    Column("pos", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("item", String(CODE), nullable=True),
    Column("qty", D, nullable=True),
    Column("payload", Text, nullable=True),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("since", Date, nullable=False),
)

# Partial reversals: what each reversal of a completion, sale or receipt took back of it
# (``events.reversed_by`` is set once nothing of the original is left).
reversals = Table(
    "reversals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("original", String(IDENT), nullable=False),
    Column("reversal", String(IDENT), nullable=False),
    Column("qty", D, nullable=False),
)
Index("ix_reversals_original", reversals.c.original)

LEDGER_TABLES = tuple(metadata.tables)  # every table of a ledger (the version table aside)
