"""shopify rate buckets: one shared estimate of each shop's GraphQL bucket

Revision ID: c3f1a7e9b2d4
Revises: 48b3adb8b459
Create Date: 2026-12-07 06:55:00

Several web nodes and workers calling one shop pace on this row together (PostgreSQL
deployments; app/platforms/shopify/rate_limit.py). Starts empty: a shop's row is written
by its first call.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f1a7e9b2d4'
down_revision = '48b3adb8b459'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shopify_rate_buckets',
    sa.Column('shop', sa.String(length=255), nullable=False),
    sa.Column('available', sa.Float(), nullable=False),
    sa.Column('maximum', sa.Float(), nullable=False),
    sa.Column('restore_rate', sa.Float(), nullable=False),
    sa.Column('stamp', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('shop', name=op.f('pk_shopify_rate_buckets'))
    )


def downgrade():
    op.drop_table('shopify_rate_buckets')
