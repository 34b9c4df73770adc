"""fulfillment order mirror: the holds (reason, notes, id to release)

Revision ID: 3f6a9c1d2e7b
Revises: 27123b5d639e
Create Date: 2026-11-23 16:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f6a9c1d2e7b'
down_revision = '27123b5d639e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fulfillment_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holds', sa.JSON(), server_default=sa.text("'[]'"),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('fulfillment_orders', schema=None) as batch_op:
        batch_op.drop_column('holds')
