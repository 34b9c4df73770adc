"""fulfillments: packed_at, when the parcel was packed (apart from the shipment status)

Revision ID: c9e5a3f7b1d2
Revises: b8d4f0a2e3c6
Create Date: 2026-12-08 10:00:00.000000

A fulfillment is Shipped as soon as it has tracking, so "still to pick and pack" can no
longer be read from the status: the pick list and the pack screen read packed_at. The
fulfillments that have left already (Shipped, Delivered) were packed when they shipped
(or, without a shipped_at, when they were made); Pending and Canceled ones stay unpacked.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9e5a3f7b1d2'
down_revision = 'b8d4f0a2e3c6'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('fulfillments', sa.Column('packed_at', sa.DateTime(timezone=True),
                                            nullable=True))
    op.execute("UPDATE fulfillments SET packed_at = COALESCE(shipped_at, created_at) "
               "WHERE status IN ('shipped', 'delivered')")


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35), never batch mode's rebuild: its DROP TABLE would
    # delete every fulfillment first, cascading to their lines (foreign keys are on).
    op.drop_column('fulfillments', 'packed_at')
