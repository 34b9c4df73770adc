"""webhook inbox: the order an event is about (order page timeline)

Revision ID: c3a9e1d27b44
Revises: 3f6a9c1d2e7b
Create Date: 2026-11-23 16:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1d27b44'
down_revision = '3f6a9c1d2e7b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_remote_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_webhook_inbox_order', ['channel_id', 'order_remote_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_inbox_order')
        batch_op.drop_column('order_remote_id')
