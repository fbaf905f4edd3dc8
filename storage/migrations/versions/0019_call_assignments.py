"""Call assignments: a call given to a coach to review, at most one coach a call.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_assignments",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_call_assignments_recording_id_recordings",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["coach_id"], ["users.id"], name="fk_call_assignments_coach_id_users"),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name="fk_call_assignments_assigned_by_users"),
        sa.PrimaryKeyConstraint("recording_id", name="pk_call_assignments"),
    )
    op.create_index("ix_call_assignments_coach_id", "call_assignments", ["coach_id"])


def downgrade() -> None:
    op.drop_index("ix_call_assignments_coach_id", table_name="call_assignments")
    op.drop_table("call_assignments")
