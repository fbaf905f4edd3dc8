"""Hold music and call-progress tones found in a transcript (``transcribe.nonspeech``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "non_speech_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_non_speech_spans_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_non_speech_spans")),
    )
    op.create_index(
        op.f("ix_non_speech_spans_transcript_id"), "non_speech_spans", ["transcript_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_non_speech_spans_transcript_id"), table_name="non_speech_spans")
    op.drop_table("non_speech_spans")
