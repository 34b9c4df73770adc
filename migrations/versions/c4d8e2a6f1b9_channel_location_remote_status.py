"""channel location remote status: a platform location deactivated or deleted on the platform

Revision ID: c4d8e2a6f1b9
Revises: 211aef80cd08
Create Date: 2026-12-06 23:05:00

Shopify's locations/deactivate and locations/delete say a location no longer stocks or
fulfills anything; Stockroom keeps the row (its mapping, its history) and stops pushing
inventory there (app/stock/push.py gates on remote_status like on stock_confirmed_at).
Every existing row is a location the platform still listed: 'active'.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2a6f1b9'
down_revision = '211aef80cd08'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channel_locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_status', sa.String(length=16),
                                      server_default=sa.text("'active'"), nullable=False))
        batch_op.add_column(sa.Column('remote_status_changed_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('channel_locations', schema=None) as batch_op:
        batch_op.drop_column('remote_status_changed_at')
        batch_op.drop_column('remote_status')
