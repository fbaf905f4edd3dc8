"""Who spoke when, as diarization heard it (``Transcript.turns``): overlapping, acoustic edges.

Transcripts stored before this have no rows here; their timeline is derived from their words.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "speaker_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["speakers.id"],
            name=op.f("fk_speaker_turns_speaker_id_speakers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_speaker_turns_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_turns")),
    )
    op.create_index(op.f("ix_speaker_turns_speaker_id"), "speaker_turns", ["speaker_id"], unique=False)
    op.create_index(
        "ix_speaker_turns_transcript_start", "speaker_turns", ["transcript_id", "start"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_speaker_turns_transcript_start", table_name="speaker_turns")
    op.drop_index(op.f("ix_speaker_turns_speaker_id"), table_name="speaker_turns")
    op.drop_table("speaker_turns")
