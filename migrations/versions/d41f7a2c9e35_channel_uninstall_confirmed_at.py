"""channels: when Shopify was seen refusing the token (an uninstall confirmed)

Revision ID: d41f7a2c9e35
Revises: 5d8e2f6a1c47
Create Date: 2026-12-06 20:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41f7a2c9e35'
down_revision = '5d8e2f6a1c47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uninstall_confirmed_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('uninstall_confirmed_at')
