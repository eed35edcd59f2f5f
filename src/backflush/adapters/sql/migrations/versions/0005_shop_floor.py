"""The shop floor: supermarket items (kanban master data), released orders and their open
quantity, replenishment signals, BOM lines issued by hand, acknowledged alerts and partial
reversals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CODE = sa.String(100)
IDENT = sa.String(200)
EXACT = sa.String(80).with_variant(sa.Numeric(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kanban_items",
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("container_qty", EXACT, nullable=False),
        sa.Column("lead_time_days", EXACT, nullable=False),
        sa.Column("safety", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item", "location"),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", IDENT, nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("open_qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_orders_item", "orders", ["item"])
    op.create_table(
        "order_totals",
        sa.Column("item", CODE, nullable=False),
        sa.Column("open_qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("item"),
    )
    op.create_table(
        "order_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("order_id", IDENT, nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_moves_event", "order_moves", ["event_id"])
    op.create_table(
        "signals",
        sa.Column("source", IDENT, nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_index("ix_signals_place", "signals", ["item", "location"])
    op.create_table(
        "signal_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("source", IDENT, nullable=False),
        sa.Column("item", CODE, nullable=False),
        sa.Column("location", CODE, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signal_moves_event", "signal_moves", ["event_id"])
    op.create_table(
        "held_events",
        sa.Column("event_id", IDENT, nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("item", CODE, nullable=True),
        sa.Column("qty", EXACT, nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    # -- other shop-floor changes below (alerts, BOM lines, reversals) --
    # Alerts: acknowledged (who, when, why); the latest date read by index (pending age).
    op.add_column("alerts", sa.Column("acknowledged_by", sa.String(500), nullable=True))
    op.add_column("alerts", sa.Column("acknowledged_on", sa.String(32), nullable=True))
    op.add_column("alerts", sa.Column("note", sa.Text(), nullable=True))
    op.create_index("ix_event_bodies_date", "event_bodies", ["date"])
    with op.batch_alter_table("bom_lines") as batch:  # backflush | manual (issued by hand)
        batch.add_column(sa.Column("flush", CODE, nullable=False,
                                   server_default="backflush"))
    op.create_table(
        "reversals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("original", IDENT, nullable=False),
        sa.Column("reversal", IDENT, nullable=False),
        sa.Column("qty", EXACT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reversals_original", "reversals", ["original"])


def downgrade() -> None:
    # -- other shop-floor changes above, undone here first --
    op.drop_index("ix_event_bodies_date", table_name="event_bodies")
    with op.batch_alter_table("alerts") as batch:
        for column in ("note", "acknowledged_on", "acknowledged_by"):
            batch.drop_column(column)
    with op.batch_alter_table("bom_lines") as batch:
        batch.drop_column("flush")
    op.drop_index("ix_reversals_original", table_name="reversals")
    op.drop_table("reversals")
    for table in ("held_events", "signal_moves", "signals", "order_moves", "order_totals",
                  "orders", "kanban_items"):
        op.drop_table(table)
