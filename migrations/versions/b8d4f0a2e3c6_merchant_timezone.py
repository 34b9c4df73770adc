"""merchants: the time zone the dashboard shows dates in

Revision ID: b8d4f0a2e3c6
Revises: a7c3e9f1d2b4
Create Date: 2026-12-07 16:10:00.000000

Null until the merchant chooses one or the first store connected gives its own (Shopify's
shop.ianaTimezone, WordPress's timezone_string); dates read in UTC meanwhile.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f0a2e3c6'
down_revision = 'a7c3e9f1d2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('merchants', sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35), never batch mode's rebuild: its DROP TABLE would
    # delete every merchant first, cascading to all their rows (foreign keys are on).
    op.drop_column('merchants', 'timezone')
