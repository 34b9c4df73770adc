"""bulk operations: the Shopify bulk query an import started and its JSONL checkpoint

Revision ID: f1b2c3d4e5a6
Revises: c3f1a7e9b2d4
Create Date: 2026-12-07 06:45:00.000000

One row per bulkOperationRunQuery (app/platforms/shopify/bulk.py); lines_done is how many
lines of the result file are stored, so a killed worker resumes without duplicates.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b2c3d4e5a6'
down_revision = 'c3f1a7e9b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=255), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('object_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('lines_done', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_bulk_operations_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_bulk_operations_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_operations')),
    sa.UniqueConstraint('channel_id', 'remote_id', name=op.f('uq_bulk_operations_channel_id_remote_id'))
    )
    with op.batch_alter_table('bulk_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_operations_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_operations_merchant_id'), ['merchant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bulk_operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_operations_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_bulk_operations_channel_id'))
    op.drop_table('bulk_operations')
