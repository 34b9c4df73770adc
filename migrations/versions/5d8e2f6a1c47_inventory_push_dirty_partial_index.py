"""inventory push states: a partial index of the dirty rows by channel and id

Revision ID: 5d8e2f6a1c47
Revises: a7e3c9d1f5b8
Create Date: 2026-11-23 19:00:00.000000

pending_pushes reads a channel's dirty rows (generation > pushed_generation) in id order,
250 at a time. The old index (channel_id, pushed_generation, generation) can find them but
not in id order: after a burst of 20,000 dirty rows each batch read sorted all of them
(70 ms a batch on PostgreSQL). A partial index on (channel_id, id) holds only the dirty rows
and is walked in order.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8e2f6a1c47'
down_revision = 'a7e3c9d1f5b8'
branch_labels = None
depends_on = None

DIRTY = sa.text("generation > pushed_generation")


def upgrade():
    with op.batch_alter_table('inventory_push_states', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_push_states_dirty')
        batch_op.create_index('ix_inventory_push_states_dirty_id', ['channel_id', 'id'],
                              unique=False, postgresql_where=DIRTY, sqlite_where=DIRTY)


def downgrade():
    with op.batch_alter_table('inventory_push_states', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_push_states_dirty_id')
        batch_op.create_index('ix_inventory_push_states_dirty',
                              ['channel_id', 'pushed_generation', 'generation'], unique=False)
