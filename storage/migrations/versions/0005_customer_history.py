"""One customer, one history: merge suggestions, undoable merges, thread-identity links, attachments,
and the full-text index on chat and e-mail messages.

``messages_fts`` follows ``0002_search_index`` exactly (external content on ``messages.body``, the
same tokenizer and prefix indexes, the same triggers), so one compiled query runs on both indexes
and their bm25 scores are comparable. PostgreSQL gets the same ``to_tsvector('simple', ...)`` GIN
index as utterances.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UPGRADE = (
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END
    """,
    """
    CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END
    """,
    """
    CREATE TRIGGER messages_fts_after_update AFTER UPDATE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END
    """,
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
)

_SQLITE_DOWNGRADE = (
    "DROP TRIGGER messages_fts_after_update",
    "DROP TRIGGER messages_fts_after_delete",
    "DROP TRIGGER messages_fts_after_insert",
    "DROP TABLE messages_fts",
)

_PG_INDEX = "ix_messages_body_tsv"


def upgrade() -> None:
    op.create_table(
        "thread_identities",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_thread_identities_identity_id_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_identities_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "identity_id", name=op.f("pk_thread_identities")),
    )
    op.create_index(op.f("ix_thread_identities_identity_id"), "thread_identities", ["identity_id"])
    op.create_table(
        "message_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_attachments_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
    )
    op.create_index(op.f("ix_message_attachments_message_id"), "message_attachments", ["message_id"])
    op.create_table(
        "merge_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_a", sa.Integer(), nullable=False),
        sa.Column("customer_b", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_a"],
            ["customers.id"],
            name=op.f("fk_merge_suggestions_customer_a_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_b"],
            ["customers.id"],
            name=op.f("fk_merge_suggestions_customer_b_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_suggestions")),
    )
    op.create_index(
        "ix_merge_suggestions_status_pair", "merge_suggestions", ["status", "customer_a", "customer_b"]
    )
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("undo", sa.JSON(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["customers.id"], name=op.f("fk_customer_merges_merged_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["customers.id"], name=op.f("fk_customer_merges_survivor_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    op.create_index(op.f("ix_customer_merges_merged_id"), "customer_merges", ["merged_id"])
    op.create_index(op.f("ix_customer_merges_survivor_id"), "customer_merges", ["survivor_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.create_index(
            _PG_INDEX, "messages", [sa.text("to_tsvector('simple', body)")], postgresql_using="gin"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWNGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.drop_index(_PG_INDEX, table_name="messages")
    op.drop_table("customer_merges")
    op.drop_table("merge_suggestions")
    op.drop_table("message_attachments")
    op.drop_table("thread_identities")
