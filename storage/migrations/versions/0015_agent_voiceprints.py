"""Agents recognised by voice: agents' voiceprints, what each call gave them, and how each speaker's
role was decided.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_voiceprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_agent_voiceprints_agent_id_agents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_voiceprints"),
        sa.UniqueConstraint("agent_id", name="uq_agent_voiceprints_agent_id"),
    )
    op.create_table(
        "voiceprint_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voiceprint_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["voiceprint_id"],
            ["agent_voiceprints.id"],
            name="fk_voiceprint_calls_voiceprint_id_agent_voiceprints",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_voiceprint_calls_recording_id_recordings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_voiceprint_calls"),
        sa.UniqueConstraint(
            "voiceprint_id", "recording_id", name="uq_voiceprint_calls_voiceprint_id_recording_id"
        ),
    )
    op.create_index("ix_voiceprint_calls_recording_id", "voiceprint_calls", ["recording_id"])
    with op.batch_alter_table("speakers") as batch:
        batch.add_column(sa.Column("role_source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("agent_similarity", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("speakers") as batch:
        batch.drop_column("agent_similarity")
        batch.drop_column("role_source")
    op.drop_index("ix_voiceprint_calls_recording_id", table_name="voiceprint_calls")
    op.drop_table("voiceprint_calls")
    op.drop_table("agent_voiceprints")
