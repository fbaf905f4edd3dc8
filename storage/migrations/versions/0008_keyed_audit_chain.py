"""The audit chain is keyed from here on, and SQLite refuses rows that do not go after the last one.

``audit_log.scheme`` says how a row's hash was made: rows written before this revision keep their
plain SHA-256 ("sha256", never re-hashed: re-hashing would launder them); every new row is an
HMAC-SHA256 under a key kept outside the database ("hmac-sha256", see ``storage.audit``).

SQLite's ``INSERT OR REPLACE`` deletes a clashing row without firing the DELETE trigger (unless
``recursive_triggers`` is on, which an attacker's own connection need not set), so an insert must now
take the next id, link to the last row's hash and bring a hash not seen before; REPLACE then has
nothing to delete. PostgreSQL has no REPLACE (``ON CONFLICT DO UPDATE`` fires the UPDATE trigger).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_APPEND_AT_END = f"""
    CREATE TRIGGER audit_log_append_at_end BEFORE INSERT ON audit_log
    WHEN NEW.id IS NOT (SELECT coalesce(max(id), 0) + 1 FROM audit_log)
        OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '{"0" * 64}')
        OR EXISTS (SELECT 1 FROM audit_log WHERE hash = NEW.hash)
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: a row must follow the last one');
    END
"""


def upgrade() -> None:
    # ADD COLUMN, not a batch table copy: copying the table on SQLite would drop its triggers.
    op.add_column(
        "audit_log", sa.Column("scheme", sa.String(length=16), server_default="sha256", nullable=False)
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_APPEND_AT_END)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_append_at_end")
    # Plain DROP COLUMN (SQLite 3.35+), not a table copy that would drop the other triggers. Keyed rows
    # then read as plain SHA-256 ones and no longer verify: a downgrade gives the evidence up.
    op.drop_column("audit_log", "scheme")
