"""Items name the location they are backflushed from and their own negative-stock rule.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CODE = sa.String(100)


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("backflush_from", CODE, nullable=True))
        batch.add_column(sa.Column("negative_stock", CODE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("negative_stock")
        batch.drop_column("backflush_from")
