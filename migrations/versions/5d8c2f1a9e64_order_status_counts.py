"""order status counts: signed per-channel deltas, so the orders list counts without a scan

Revision ID: 5d8c2f1a9e64
Revises: e4f2a8c6b913
Create Date: 2026-11-23 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8c2f1a9e64'
down_revision = 'e4f2a8c6b913'
branch_labels = None
depends_on = None

# One row per (channel, status) for the orders that exist already: what a recount writes.
BACKFILL = """
INSERT INTO order_status_counts (merchant_id, channel_id, status, n)
SELECT merchant_id, channel_id, fulfillment_status, COUNT(*) FROM orders
GROUP BY merchant_id, channel_id, fulfillment_status
"""


def upgrade():
    op.create_table('order_status_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_order_status_counts_merchant_channel', 'order_status_counts',
                    ['merchant_id', 'channel_id', 'status'], unique=False)
    op.create_index(op.f('ix_order_status_counts_channel_id'), 'order_status_counts',
                    ['channel_id'], unique=False)
    op.execute(BACKFILL)


def downgrade():
    op.drop_index(op.f('ix_order_status_counts_channel_id'), table_name='order_status_counts')
    op.drop_index('ix_order_status_counts_merchant_channel', table_name='order_status_counts')
    op.drop_table('order_status_counts')
