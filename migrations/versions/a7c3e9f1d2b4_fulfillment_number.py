"""fulfillments: a number within the order (#1001-F1, #1001-F2, ...)

Revision ID: a7c3e9f1d2b4
Revises: 6e1b9d4c2a73
Create Date: 2026-12-07 16:00:00.000000

A fulfillment was shown by its row id ("#75"), a number the merchant never sees anywhere
else. It is now named as Shopify names its fulfillments: the order's name, "-F" and its
number within the order, counted in creation order (canceled ones keep theirs). Existing
rows are numbered the same way, by id within their order.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1d2b4'
down_revision = '6e1b9d4c2a73'
branch_labels = None
depends_on = None


def upgrade():
    # No table rebuild on SQLite (batch mode's DROP TABLE would first delete every row,
    # cascading to the fulfillment lines, foreign keys being on): ADD COLUMN with a default,
    # the numbers, then a unique index.
    op.add_column('fulfillments', sa.Column('number', sa.Integer(), nullable=False,
                                            server_default=sa.text('0')))
    op.execute("UPDATE fulfillments SET number = (SELECT count(*) FROM fulfillments AS f2 "
               "WHERE f2.order_id = fulfillments.order_id AND f2.id <= fulfillments.id)")
    op.create_index('ix_fulfillments_order_id_number', 'fulfillments', ['order_id', 'number'],
                    unique=True)


def downgrade():
    op.drop_index('ix_fulfillments_order_id_number', table_name='fulfillments')
    op.drop_column('fulfillments', 'number')  # SQLite >= 3.35: no rebuild
