"""order search on SQLite: FTS5 trigram indexes kept in step by triggers

Revision ID: a7e3c9d1f5b8
Revises: 5d8c2f1a9e64
Create Date: 2026-11-23 19:00:00.000000

SQLite's B-trees can't answer LIKE '%term%'; an FTS5 table with the trigram tokenizer
(SQLite >= 3.34) can, case-insensitively, for terms of 3 characters or more. Two
external-content tables index what the orders list searches (order name, customer name
and email; line SKUs) without a second copy of the text; triggers keep them in step with
every insert, update and delete, cascaded deletes included. PostgreSQL has its trigram
GIN indexes (e4f2a8c6b913) and gets nothing here.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7e3c9d1f5b8'
down_revision = '5d8c2f1a9e64'
branch_labels = None
depends_on = None

#: (FTS table, content table, indexed columns)
SEARCHED = (("orders_search", "orders", ("name", "customer_name", "customer_email")),
            ("order_lines_search", "order_lines", ("sku",)))


def _statements(fts: str, table: str, columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    add = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    remove = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN {remove} {add} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for fts, table, columns in SEARCHED:
        for statement in _statements(fts, table, columns):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for fts, _table, _columns in SEARCHED:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
