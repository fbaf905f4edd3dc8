"""Redaction: each redacted word's type, the redacted spans with the words as heard, and the
redacted copy of a call's audio.

Transcripts stored before this were not redacted: their words have no type and no spans.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("words") as batch:
        batch.add_column(sa.Column("entity", sa.String(length=16), nullable=True))
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("redacted_audio_sha256", sa.String(length=64), nullable=True))
    op.create_table(
        "redacted_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("speaker", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("heard", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_redacted_spans_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redacted_spans")),
    )
    op.create_index(
        op.f("ix_redacted_spans_transcript_id"), "redacted_spans", ["transcript_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_redacted_spans_transcript_id"), table_name="redacted_spans")
    op.drop_table("redacted_spans")
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("redacted_audio_sha256")
    with op.batch_alter_table("words") as batch:
        batch.drop_column("entity")
