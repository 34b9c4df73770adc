"""form submissions: dashboard form tokens consumed once (double-submit protection)

Revision ID: 8f3b6d2e9a41
Revises: d41f7a2c9e35
Create Date: 2026-12-06 20:10:00.000000

A form that creates something (fulfill, split, bulk fulfill, adjust stock, add location)
carries a signed single-use token; its row here is inserted in the transaction that
creates the thing, so the unique key turns a second submission into a no-op.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f3b6d2e9a41'
down_revision = 'd41f7a2c9e35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=255), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_form_submissions_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('merchant_id', 'purpose', 'nonce', name=op.f('uq_form_submissions_merchant_id_purpose_nonce'))
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_form_submissions_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submissions_merchant_id'), ['merchant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_merchant_id'))
        batch_op.drop_index('ix_form_submissions_created_at')

    op.drop_table('form_submissions')
