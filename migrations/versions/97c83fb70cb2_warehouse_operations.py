"""warehouse operations: pack scans, purchase orders, reorder points

Revision ID: 97c83fb70cb2
Revises: 5c530e959722
Create Date: 2026-12-07 02:15:24.867547

Scan to verify (pack_counts: units of each fulfillment line scanned on the pack screen),
receiving (purchase_orders with lines of expected vs received units and a timeline) and
low stock (reorder_points per item and location; the daily digest's per-merchant setting,
off by default, and low_stock_digests, one row per merchant and day so the schedule queues
each day's email once). Stock still moves only through the ledger (inventory_movements
reason purchase_order_received).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '97c83fb70cb2'
down_revision = '5c530e959722'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('low_stock_digest_settings',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_low_stock_digest_settings_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_low_stock_digest_settings'))
    )
    op.create_table('low_stock_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_low_stock_digests_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_low_stock_digests')),
    sa.UniqueConstraint('merchant_id', 'day', name=op.f('uq_low_stock_digests_merchant_id_day'))
    )
    with op.batch_alter_table('low_stock_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_low_stock_digests_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=255), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_purchase_orders_location_id_stock_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_purchase_orders_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('purchase_order_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_purchase_order_events_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_events_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_events'))
    )
    with op.batch_alter_table('purchase_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_events_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_events_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('expected_quantity', sa.Integer(), nullable=False),
    sa.Column('received_quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('expected_quantity > 0', name=op.f('ck_purchase_order_lines_expected_positive')),
    sa.CheckConstraint('received_quantity >= 0', name=op.f('ck_purchase_order_lines_received_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_purchase_order_lines_item_id_inventory_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_purchase_order_lines_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('purchase_order_id', 'item_id', name=op.f('uq_purchase_order_lines_purchase_order_id_item_id'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('reorder_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reorder_point', sa.Integer(), nullable=False),
    sa.CheckConstraint('reorder_point >= 0', name=op.f('ck_reorder_points_reorder_point_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_reorder_points_item_id_inventory_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_reorder_points_location_id_stock_locations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_reorder_points_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reorder_points')),
    sa.UniqueConstraint('location_id', 'item_id', name=op.f('uq_reorder_points_location_id_item_id'))
    )
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reorder_points_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reorder_points_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reorder_points_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('pack_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('fulfillment_id', sa.Integer(), nullable=False),
    sa.Column('fulfillment_line_id', sa.Integer(), nullable=False),
    sa.Column('scanned', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('scanned >= 0', name=op.f('ck_pack_counts_scanned_not_negative')),
    sa.ForeignKeyConstraint(['fulfillment_id'], ['fulfillments.id'], name=op.f('fk_pack_counts_fulfillment_id_fulfillments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fulfillment_line_id'], ['fulfillment_lines.id'], name=op.f('fk_pack_counts_fulfillment_line_id_fulfillment_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_pack_counts_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_counts')),
    sa.UniqueConstraint('fulfillment_line_id', name=op.f('uq_pack_counts_fulfillment_line_id'))
    )
    with op.batch_alter_table('pack_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_counts_fulfillment_id'), ['fulfillment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_counts_merchant_id'), ['merchant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pack_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_counts_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_pack_counts_fulfillment_id'))

    op.drop_table('pack_counts')
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reorder_points_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_reorder_points_location_id'))
        batch_op.drop_index(batch_op.f('ix_reorder_points_item_id'))

    op.drop_table('reorder_points')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_item_id'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('purchase_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_events_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_events_merchant_id'))

    op.drop_table('purchase_order_events')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_location_id'))

    op.drop_table('purchase_orders')
    with op.batch_alter_table('low_stock_digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_low_stock_digests_merchant_id'))

    op.drop_table('low_stock_digests')
    op.drop_table('low_stock_digest_settings')
