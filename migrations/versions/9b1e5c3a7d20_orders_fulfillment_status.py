"""orders: stored fulfillment status, indexed with merchant and keyset order

Revision ID: 9b1e5c3a7d20
Revises: c3a9e1d27b44
Create Date: 2026-11-23 16:35:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b1e5c3a7d20'
down_revision = 'c3a9e1d27b44'
branch_labels = None
depends_on = None

# The same rules as app.orders.order_status, for the orders that exist already.
BACKFILL = """
UPDATE orders SET fulfillment_status = CASE
  WHEN cancelled_at IS NOT NULL THEN 'canceled'
  WHEN (SELECT COALESCE(SUM(quantity), 0) FROM order_lines WHERE order_id = orders.id) > 0
   AND (SELECT COALESCE(SUM(fulfilled_quantity), 0) FROM order_lines WHERE order_id = orders.id)
    >= (SELECT COALESCE(SUM(quantity), 0) FROM order_lines WHERE order_id = orders.id)
    THEN 'fulfilled'
  WHEN (SELECT COALESCE(SUM(fulfilled_quantity), 0) FROM order_lines WHERE order_id = orders.id) > 0
    THEN 'partially_fulfilled'
  ELSE 'unfulfilled' END
"""


# Plain ALTERs, no batch "move and copy": on SQLite, recreating orders would drop the old
# table, and with foreign keys on that cascades to every order line.
def upgrade():
    op.add_column('orders', sa.Column('fulfillment_status', sa.String(length=24),
                                      server_default=sa.text("'unfulfilled'"), nullable=False))
    op.execute(BACKFILL)
    op.create_index('ix_orders_merchant_status_placed', 'orders',
                    ['merchant_id', 'fulfillment_status', 'placed_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_orders_merchant_status_placed', table_name='orders')
    op.drop_column('orders', 'fulfillment_status')  # SQLite >= 3.35 drops columns in place
