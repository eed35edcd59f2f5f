"""summary posting: lean event rows, summary entries, parent of summary moves

Events keep their quantity in a column and the other fields in ``payload`` (old rows keep
their full payload, which the reader still understands); the content hash is gone
(duplicates are compared by content). ``entry_seq`` ties an event posted in a summary to
its summary entry; ``stock_moves.parent`` names the item a summary backflush was for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:30:00
"""
import sqlalchemy as sa
from alembic import op

import backflush.adapters.sql.schema

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_type_date')
        batch_op.drop_column('content_hash')
        batch_op.add_column(sa.Column('qty', backflush.adapters.sql.schema.ExactDecimal(),
                                      nullable=True))
        batch_op.add_column(sa.Column('entry_seq', sa.Integer(), nullable=True))
        batch_op.alter_column('payload', existing_type=sa.Text(), nullable=True)
    op.create_index('ix_events_reversed', 'events', ['reversed_by'], unique=False,
                    sqlite_where=sa.text('reversed_by IS NOT NULL'),
                    postgresql_where=sa.text('reversed_by IS NOT NULL'))
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent', sa.String(length=100), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    from backflush.adapters.sql.codec import event_from_row, event_to_json

    conn = op.get_bind()
    summarised = conn.execute(sa.text(
        "SELECT COUNT(*) FROM events WHERE entry_seq IS NOT NULL")).scalar_one()
    if summarised:
        raise RuntimeError(f"{summarised} events were posted in summary entries, which "
                           "schema 0001 cannot hold; not downgrading (nothing changed)")
    op.drop_index('ix_events_reversed', table_name='events')
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_column('parent')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=False,
                                      server_default=''))
    events = sa.table('events', sa.column('seq'), sa.column('id'), sa.column('type'),
                      sa.column('date', sa.Date), sa.column('item'),
                      sa.column('qty', backflush.adapters.sql.schema.ExactDecimal()),
                      sa.column('payload'), sa.column('content_hash'))
    for row in conn.execute(sa.select(events)).all():
        event = event_from_row(row.type, row.id, row.date, row.item, row.qty, row.payload)
        conn.execute(sa.update(events).where(events.c.seq == row.seq).values(
            payload=event_to_json(event), content_hash=event.content_hash()))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('entry_seq')
        batch_op.drop_column('qty')
        batch_op.alter_column('payload', existing_type=sa.Text(), nullable=False)
        batch_op.create_index('ix_events_type_date', ['type', 'date'], unique=False)
