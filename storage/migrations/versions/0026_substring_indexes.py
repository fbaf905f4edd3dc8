"""Trigram indexes on customer names and identity values, for finding a customer by part of either.

``storage/substrings.py`` looks customers up through them (a search's or the call list's customer
filter, the customer lookup), where ``LIKE '%text%'`` read every customer. SQLite: FTS5 ``trigram``
tables with external content, kept in step by triggers as ``0002_search_index`` keeps its index.
PostgreSQL: ``pg_trgm`` GIN indexes, which serve the lookups' ``ILIKE``.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, indexed column, SQLite FTS5 table, PostgreSQL index)
_INDEXED = (
    ("customers", "display_name", "customer_names_fts", "ix_customers_display_name_trigrams"),
    ("identities", "value", "identity_values_fts", "ix_identities_value_trigrams"),
)


def _sqlite_upgrade(table: str, indexed: str, fts: str) -> tuple[str, ...]:
    return (
        f"""CREATE VIRTUAL TABLE {fts} USING fts5(
            {indexed}, content='{table}', content_rowid='id', tokenize='trigram'
        )""",
        f"""CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO {fts}(rowid, {indexed}) VALUES (new.id, new.{indexed});
        END""",
        f"""CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN
            INSERT INTO {fts}({fts}, rowid, {indexed}) VALUES ('delete', old.id, old.{indexed});
        END""",
        f"""CREATE TRIGGER {fts}_after_update AFTER UPDATE OF {indexed} ON {table} BEGIN
            INSERT INTO {fts}({fts}, rowid, {indexed}) VALUES ('delete', old.id, old.{indexed});
            INSERT INTO {fts}(rowid, {indexed}) VALUES (new.id, new.{indexed});
        END""",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm ships with Debian's postgresql package (contrib) and is a trusted extension, as
        # unaccent (0013) is: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, indexed, _, index in _INDEXED:
            op.execute(f"CREATE INDEX {index} ON {table} USING gin ({indexed} gin_trgm_ops)")
        return
    for table, indexed, fts, _ in _INDEXED:
        for statement in _sqlite_upgrade(table, indexed, fts):
            op.execute(statement)


def downgrade() -> None:
    for _, _, fts, index in _INDEXED:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP INDEX {index}")
            continue
        for trigger in ("after_update", "after_delete", "after_insert"):
            op.execute(f"DROP TRIGGER {fts}_{trigger}")
        op.execute(f"DROP TABLE {fts}")
