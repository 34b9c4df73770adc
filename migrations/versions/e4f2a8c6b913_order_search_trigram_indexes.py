"""order search: trigram indexes for substring search (PostgreSQL only)

Revision ID: e4f2a8c6b913
Revises: 9b1e5c3a7d20
Create Date: 2026-11-23 17:00:00.000000

The orders list searches order names, customer names and emails, and line SKUs by
substring (LIKE '%term%'), which no B-tree can answer. pg_trgm's GIN indexes can; pg_trgm
is a trusted extension (a database owner may create it). SQLite keeps scanning.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4f2a8c6b913'
down_revision = '9b1e5c3a7d20'
branch_labels = None
depends_on = None

INDEXES = (("ix_orders_name_trgm", "orders", "name"),
           ("ix_orders_customer_name_trgm", "orders", "customer_name"),
           ("ix_orders_customer_email_trgm", "orders", "customer_email"),
           ("ix_order_lines_sku_trgm", "order_lines", "sku"))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _, _ in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
