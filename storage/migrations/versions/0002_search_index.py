"""Full-text index on utterance text: SQLite FTS5 (external content + triggers) or a PostgreSQL GIN index.

FTS5 stores only the index, reading the text from ``utterances`` itself (external content), so
transcripts are not stored twice; the triggers are SQLite's documented pattern for keeping such an
index in step. ``remove_diacritics 2`` lets "resume" find "résumé"; the ``prefix`` indexes make
``ref*`` queries as fast as whole words. PostgreSQL indexes ``to_tsvector('simple', text)``: no
stemming and no stop words, so every word a caller said stays findable as said, in any language.
``storage/search.py`` must use the same expressions for the indexes to be used.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UPGRADE = (
    """
    CREATE VIRTUAL TABLE utterances_fts USING fts5(
        text, content='utterances', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER utterances_fts_after_insert AFTER INSERT ON utterances BEGIN
        INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER utterances_fts_after_delete AFTER DELETE ON utterances BEGIN
        INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END
    """,
    """
    CREATE TRIGGER utterances_fts_after_update AFTER UPDATE ON utterances BEGIN
        INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    # Index the utterances that existed before this revision.
    "INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild')",
)

_SQLITE_DOWNGRADE = (
    "DROP TRIGGER utterances_fts_after_update",
    "DROP TRIGGER utterances_fts_after_delete",
    "DROP TRIGGER utterances_fts_after_insert",
    "DROP TABLE utterances_fts",
)

_PG_INDEX = "ix_utterances_text_tsv"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.create_index(
            _PG_INDEX, "utterances", [sa.text("to_tsvector('simple', text)")], postgresql_using="gin"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWNGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.drop_index(_PG_INDEX, table_name="utterances")
