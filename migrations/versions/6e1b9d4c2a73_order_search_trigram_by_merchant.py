"""order search: trigram indexes led by the merchant (PostgreSQL only)

Revision ID: 6e1b9d4c2a73
Revises: f1b2c3d4e5a6
Create Date: 2026-12-07 06:40:00.000000

The trigram indexes of e4f2a8c6b913 index every merchant's names, emails and SKUs in one
GIN index each: a search found the term's rows in every store, then dropped the other
merchants' rows one by one (with 1,000 merchants whose SKUs look alike, a SKU search read
1,000 merchants' matches to show one merchant's). These replace them with GIN indexes on
(merchant_id, lower(column) gin_trgm_ops): the merchant is a key of the index
(``btree_gin``, a trusted extension like ``pg_trgm``), so a search reads the postings of
the merchant and of the term's trigrams and intersects them, its cost following the
merchant's matches, not the table's.

Production: CREATE INDEX locks the table against writes while it builds (minutes at
millions of rows). On a live database build each index first with
``CREATE INDEX CONCURRENTLY`` (it can't run inside a transaction: run it by hand or in an
``op.get_context().autocommit_block()``), then run this revision, whose ``IF NOT EXISTS``
finds them built, and drop the old ones the same way (``DROP INDEX CONCURRENTLY``).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6e1b9d4c2a73'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None

OLD = (("ix_orders_name_trgm", "orders", "name"),
       ("ix_orders_customer_name_trgm", "orders", "customer_name"),
       ("ix_orders_customer_email_trgm", "orders", "customer_email"),
       ("ix_order_lines_sku_trgm", "order_lines", "sku"))
NEW = (("ix_orders_merchant_name_trgm", "orders", "name"),
       ("ix_orders_merchant_customer_name_trgm", "orders", "customer_name"),
       ("ix_orders_merchant_customer_email_trgm", "orders", "customer_email"),
       ("ix_order_lines_merchant_sku_trgm", "order_lines", "sku"))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, table, column in NEW:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                   f"USING gin (merchant_id, lower({column}) gin_trgm_ops)")
    for name, _, _ in OLD:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in OLD:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                   f"USING gin (lower({column}) gin_trgm_ops)")
    for name, _, _ in NEW:
        op.execute(f"DROP INDEX IF EXISTS {name}")
