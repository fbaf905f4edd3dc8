"""Threads are keyed by the account inside the tool too (``threads.provider_account``), and a
message keeps the text it quotes (``messages.quoted``, searched with its body).

Chatwoot conversation numbers and Zendesk ticket ids are unique within one account only: keyed by
``(channel, provider, provider_id)``, the second account's ticket 33 was stored into the first
account's. Threads stored before this get "" (account not known); the importer claims such a thread
for an account only when the import shares a message with it.

Quoted text was dropped at import, so an interleaved reply or an inline forward lost its words;
``messages_fts`` now indexes ``body`` and ``quoted`` (PostgreSQL's expression index likewise).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_PG_INDEX = "ix_messages_body_tsv"


def _sqlite_fts(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``messages_fts`` over ``columns``, as 0005 built it over ``body`` alone."""
    names = ", ".join(columns)
    new, old = (", ".join(f"{row}.{c}" for c in columns) for row in ("new", "old"))
    return (
        f"""CREATE VIRTUAL TABLE messages_fts USING fts5(
            {names}, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        )""",
        f"""CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, {names}) VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER messages_fts_after_update AFTER UPDATE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, {names}) VALUES ('delete', old.id, {old});
            INSERT INTO messages_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    )


def _drop_message_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in (
            "DROP TRIGGER messages_fts_after_update",
            "DROP TRIGGER messages_fts_after_delete",
            "DROP TRIGGER messages_fts_after_insert",
            "DROP TABLE messages_fts",
        ):
            op.execute(statement)
    elif dialect == "postgresql":
        op.drop_index(_PG_INDEX, table_name="messages")


def _create_message_index(columns: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _sqlite_fts(columns):
            op.execute(statement)
    elif dialect == "postgresql":
        text = " || ' ' || ".join(
            c if c == "body" else f"coalesce({c}, '')" for c in columns
        )  # body: NOT NULL
        op.create_index(
            _PG_INDEX, "messages", [sa.text(f"to_tsvector('simple', {text})")], postgresql_using="gin"
        )


def upgrade() -> None:
    _drop_message_index()
    op.add_column("messages", sa.Column("quoted", sa.Text(), nullable=True))
    _create_message_index(("body", "quoted"))
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("provider_account", sa.String(255), server_default="", nullable=False))
        batch.drop_constraint("uq_threads_channel_provider_provider_id", type_="unique")
        batch.create_unique_constraint(
            "uq_threads_channel_provider_provider_account_provider_id",
            ["channel", "provider", "provider_account", "provider_id"],
        )


def downgrade() -> None:
    # Two accounts' threads with one id cannot share the old key: downgrading refuses (the unique
    # constraint fails) rather than mixing them.
    with op.batch_alter_table("threads") as batch:
        batch.drop_constraint("uq_threads_channel_provider_provider_account_provider_id", type_="unique")
        batch.create_unique_constraint(
            "uq_threads_channel_provider_provider_id", ["channel", "provider", "provider_id"]
        )
        batch.drop_column("provider_account")
    _drop_message_index()  # first: rebuilding the table to drop a column would drop its triggers
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("quoted")
    _create_message_index(("body",))
