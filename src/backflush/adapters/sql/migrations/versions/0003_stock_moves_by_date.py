"""stock moves indexed by date, not by item

A completion moves some twenty components: an index on ``stock_moves.item`` takes an entry
in twenty places of the index, so each durable commit wrote about twenty more pages of it.
The only query that needed it (what was backflushed of a component in a period, for a
count's diagnosis) reads the moves of the period instead: an index on ``stock_moves.date``,
where an event's moves sit together (they share its date).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_stock_moves_item', table_name='stock_moves')
    op.create_index('ix_stock_moves_date', 'stock_moves', ['date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_stock_moves_date', table_name='stock_moves')
    op.create_index('ix_stock_moves_item', 'stock_moves', ['item'], unique=False)
