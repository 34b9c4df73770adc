"""slip settings: a merchant logo and footer for packing slips

Revision ID: 48b3adb8b459
Revises: db356c48409d
Create Date: 2026-12-07 03:12:55.846912

One row per merchant that set them; the logo is a validated PNG or JPEG kept in the
database (app/printing/settings.py) and printed as a data: URL.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '48b3adb8b459'
down_revision = 'db356c48409d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('slip_settings',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('footer', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=16), server_default=sa.text("''"), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_slip_settings_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_slip_settings'))
    )


def downgrade():
    op.drop_table('slip_settings')
