"""PostgreSQL as a first-class backend: the audit log's protections as on SQLite, and a search index
that folds diacritics and is stored, not recomputed per match. SQLite is untouched.

Audit log: 0003's trigger refused UPDATE and DELETE with a plain exception (SQLSTATE P0001); it now
raises an integrity violation (23000), as SQLite's RAISE(ABORT) does, so both backends give callers
the same ``IntegrityError``. TRUNCATE, which fires no row trigger, is refused by a statement
trigger. An INSERT must take the next id, link to the last row's hash and bring a new hash, as
0008 asks of SQLite: a row cannot be slipped in between or in front. (The table's owner can still
drop these triggers, as the holder of a SQLite file can; the keyed chain and the checkpoints outside
the database find what is changed then.)

Search: the ``earshot`` text search configuration is ``simple`` (no stemming, no stop words: every
word stays findable as said, in any language) behind ``unaccent``, so "resume" finds "résumé" as
SQLite's ``remove_diacritics 2`` does. Each text gets a stored generated ``tsvector`` column with a
GIN index: ranking reads the stored vector instead of parsing every matching text again.
``storage/search.py`` uses the same configuration name. The columns and indexes end in ``_tsv``, which
``migrations/env.py`` leaves out of autogenerate (the models do not declare them).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END
    $$ LANGUAGE plpgsql
"""
_OLD_APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
    END
    $$ LANGUAGE plpgsql
"""
_AUDIT_UPGRADE = (
    _APPEND_ONLY,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
    f"""
    CREATE FUNCTION audit_log_append_at_end() RETURNS trigger AS $$
    DECLARE
        last_id integer;
        last_hash varchar;
    BEGIN
        SELECT id, hash INTO last_id, last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
        IF NEW.id IS DISTINCT FROM coalesce(last_id, 0) + 1
            OR NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, '{"0" * 64}')
            OR EXISTS (SELECT 1 FROM audit_log WHERE hash = NEW.hash)
        THEN
            RAISE EXCEPTION 'audit_log is append-only: a row must follow the last one'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_log_append_at_end BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_at_end()
    """,
)
_AUDIT_DOWNGRADE = (
    "DROP TRIGGER audit_log_append_at_end ON audit_log",
    "DROP FUNCTION audit_log_append_at_end()",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    _OLD_APPEND_ONLY,
)

# (table, indexed text, the old expression index's text (0002; 0010 for messages, which added the
# quoted part), its name = the new index's name, new column)
_INDEXED = (
    ("utterances", "coalesce(text, '')", "text", "ix_utterances_text_tsv", "text_tsv"),
    (
        "messages",
        "body || ' ' || coalesce(quoted, '')",
        "body || ' ' || coalesce(quoted, '')",
        "ix_messages_body_tsv",
        "body_tsv",
    ),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _AUDIT_UPGRADE:
        op.execute(statement)
    # unaccent ships with Debian's postgresql package (contrib) and is a trusted extension: the
    # database's owner may create it without being a superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION earshot (COPY = simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION earshot "
        "ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, "
        "hword_part, hword_numpart WITH unaccent, simple"
    )
    for table, indexed, _, index, vector in _INDEXED:
        op.drop_index(index, table_name=table)
        op.add_column(
            table,
            sa.Column(
                vector,
                sa.dialects.postgresql.TSVECTOR(),
                sa.Computed(f"to_tsvector('earshot'::regconfig, {indexed})", persisted=True),
            ),
        )
        op.create_index(index, table, [vector], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _, old, index, vector in _INDEXED:
        op.drop_index(index, table_name=table)
        op.drop_column(table, vector)
        op.create_index(index, table, [sa.text(f"to_tsvector('simple', {old})")], postgresql_using="gin")
    op.execute("DROP TEXT SEARCH CONFIGURATION earshot")
    for statement in _AUDIT_DOWNGRADE:
        op.execute(statement)
