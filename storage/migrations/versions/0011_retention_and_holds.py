"""Legal holds, retention policies, calls whose audio retention removed, and evaluations that outlive
their call (``recording_id`` set to NULL by the deletion, ``call_deleted_at`` saying when).

SQLite cannot alter a foreign key in place: the evaluations table is rebuilt (the migration
environment turns foreign keys off around it, so the answers pointing at it stay as they are).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_evaluations_recording_id_recordings"


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("date_from", sa.Date(), nullable=True),
        sa.Column("date_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("placed_by", sa.String(length=320), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release_requested_by", sa.String(length=320), nullable=True),
        sa.Column("release_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=320), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_customer_id"), "legal_holds", ["customer_id"], unique=False)
    op.create_index(op.f("ix_legal_holds_recording_id"), "legal_holds", ["recording_id"], unique=False)
    op.create_table(
        "retention_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("agent", sa.String(length=200), nullable=True),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("delete", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=320), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_policies")),
    )
    op.add_column("recordings", sa.Column("audio_deleted_at", sa.DateTime(timezone=True), nullable=True))
    _rebuild_evaluations(ondelete="SET NULL", nullable=True, add_deleted_at=True)


def downgrade() -> None:
    # Their call is gone, and the older schema has no place for them (foreign keys are off here, so
    # their answers are deleted first by hand).
    op.execute(
        "DELETE FROM evaluation_answers WHERE evaluation_id IN "
        "(SELECT id FROM evaluations WHERE recording_id IS NULL)"
    )
    op.execute("DELETE FROM evaluations WHERE recording_id IS NULL")
    _rebuild_evaluations(ondelete="CASCADE", nullable=False, add_deleted_at=False)
    # Not through a batch: SQLite drops a plain column in place (3.35 and later), so the largest
    # table is not copied.
    op.drop_column("recordings", "audio_deleted_at")
    op.drop_table("retention_policies")
    op.drop_index(op.f("ix_legal_holds_recording_id"), table_name="legal_holds")
    op.drop_index(op.f("ix_legal_holds_customer_id"), table_name="legal_holds")
    op.drop_table("legal_holds")


def _rebuild_evaluations(*, ondelete: str, nullable: bool, add_deleted_at: bool) -> None:
    with op.batch_alter_table("evaluations") as batch:
        if add_deleted_at:
            batch.add_column(sa.Column("call_deleted_at", sa.DateTime(timezone=True), nullable=True))
        else:
            batch.drop_column("call_deleted_at")
        batch.drop_constraint(_FK, type_="foreignkey")
        batch.alter_column("recording_id", existing_type=sa.Integer(), nullable=nullable)
        batch.create_foreign_key(_FK, "recordings", ["recording_id"], ["id"], ondelete=ondelete)
