"""Work centers keep the budget their rates were predetermined from (volume variance).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EXACT = sa.String(80).with_variant(sa.Numeric(), "postgresql")
COLUMNS = ("budget_labor", "budget_overhead", "budget_conversion", "budget_hours")


def upgrade() -> None:
    with op.batch_alter_table("work_centers") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, EXACT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_centers") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
