"""The ledger: master data, cost versions, events, journal, stock (the baseline schema).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

# A migration imports no application code: column types are written inline. An exact
# decimal is EXACT: canonical text on SQLite (which has no decimal type), NUMERIC on
# PostgreSQL; what backflush.adapters.sql.codec.ExactDecimal reads and writes.
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EXACT = sa.String(80).with_variant(sa.Numeric(), "postgresql")
CODE = sa.String(100)
IDENT = sa.String(200)
KEY = sa.String(120)


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # ------------------------------------------------------------------ master data
    op.create_table(
        "items",
        sa.Column("code", CODE, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("uom", CODE, nullable=False),
        sa.Column("standard_cost", EXACT, nullable=True),
        sa.Column("conversion_cost", EXACT, nullable=True),
        sa.Column("phantom", sa.Boolean(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=True),
        sa.Column("made", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "bom_versions",
        sa.Column("parent", CODE, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("parent", "version"),
    )
    op.create_table(
        "bom_lines",
        sa.Column("parent", CODE, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("component", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.Column("scrap", EXACT, nullable=False),
        sa.ForeignKeyConstraint(["parent", "version"],
                                ["bom_versions.parent", "bom_versions.version"],
                                name="fk_bom_lines_version"),
        sa.PrimaryKeyConstraint("parent", "version", "line_no"),
    )
    op.create_table(
        "work_centers",
        sa.Column("code", CODE, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("labor_rate", EXACT, nullable=False),
        sa.Column("overhead_rate", EXACT, nullable=False),
        sa.Column("conversion_rate", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "routings",
        sa.Column("item", CODE, nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("operation", sa.Integer(), nullable=False),
        sa.Column("work_center", CODE, nullable=False),
        sa.Column("run_hours", EXACT, nullable=False),
        sa.Column("setup_hours", EXACT, nullable=False),
        sa.Column("lot_size", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item", "n"),
    )
    op.create_table(
        "cost_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("event_id", IDENT, nullable=True),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "standard_costs",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        *(sa.Column(f"{level}_{element}", EXACT, nullable=False)
          for level in ("this", "lower")
          for element in ("material", "labor", "overhead", "conversion")),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("bom", KEY, nullable=False),
        sa.ForeignKeyConstraint(["version"], ["cost_versions.number"],
                                name="fk_standard_costs_version"),
        sa.PrimaryKeyConstraint("version", "item"),
    )
    op.create_table(
        "closes",
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("event_id", IDENT, nullable=False),
        sa.PrimaryKeyConstraint("n"),
    )
    # ------------------------------------------------------------------ the event log
    op.create_table(
        "event_bodies",
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("item", CODE, nullable=True),
        sa.Column("qty", EXACT, nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("cost_version", sa.Integer(), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", IDENT, nullable=False),
        sa.Column("body", sa.Integer(), nullable=False),
        sa.Column("reversed_by", IDENT, nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("uq_events_id", "events", ["id"], unique=True)
    op.create_index("ix_events_reversed", "events", ["body"],
                    sqlite_where=sa.text("reversed_by IS NOT NULL"),
                    postgresql_where=sa.text("reversed_by IS NOT NULL"))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name="fk_alerts_event"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("parent", CODE, nullable=False),
        sa.Column("component", CODE, nullable=False),
        sa.Column("bom", KEY, nullable=False),
        sa.Column("bom_qty", EXACT, nullable=False),
        sa.Column("suggested_qty", EXACT, nullable=False),
        sa.Column("backflushed", EXACT, nullable=False),
        sa.Column("difference", EXACT, nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name="fk_findings_event"),
        sa.PrimaryKeyConstraint("id"),
    )
    # ------------------------------------------------------------------ the journal
    op.create_table(
        "journal_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cost_version", sa.Integer(), nullable=False),
        sa.Column("bom", KEY, nullable=False),
        sa.Column("cogs_material", EXACT, nullable=False),
        sa.Column("cogs_conversion", EXACT, nullable=False),
        sa.Column("derivations", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name="fk_journal_entries_event"),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_journal_entries_event", "journal_entries", ["event_id"])
    op.create_index("ix_journal_entries_date", "journal_entries", ["date"])
    op.create_table(
        "journal_lines",
        sa.Column("entry_seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("role", sa.String(60), nullable=True),
        sa.Column("debit", EXACT, nullable=False),
        sa.Column("credit", EXACT, nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("family", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(["entry_seq"], ["journal_entries.seq"],
                                name="fk_journal_lines_entry"),
        sa.PrimaryKeyConstraint("entry_seq", "line_no"),
    )
    op.create_index("ix_journal_lines_account", "journal_lines", ["account"])
    op.create_table(
        "account_balances",
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("balance", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    # ------------------------------------------------------------------ stock
    op.create_table(
        "stock_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("parent", CODE, nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name="fk_stock_moves_event"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stock_moves_event", "stock_moves", ["event_seq"])
    op.create_index("ix_stock_moves_date", "stock_moves", ["date"])
    op.create_table(
        "stock_balances",
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item", "location"),
    )
    op.create_table(
        "pending_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.Column("source", IDENT, nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name="fk_pending_changes_event"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pending_changes_event", "pending_changes", ["event_seq"])
    op.create_table(
        "pending_queue",
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("pos", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", IDENT, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item", "location", "pos"),
    )
    op.create_table(
        "pending_totals",
        sa.Column("item", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item"),
    )


def downgrade() -> None:
    # Dependants first (the foreign keys point at events, journal entries, versions).
    for table in ("pending_totals", "pending_queue", "pending_changes", "stock_balances",
                  "stock_moves", "account_balances", "journal_lines", "journal_entries",
                  "findings", "alerts", "events", "event_bodies", "closes", "standard_costs",
                  "cost_versions", "routings", "work_centers", "bom_lines", "bom_versions",
                  "items", "settings"):
        op.drop_table(table)
