"""Scorecards: critical ("auto-fail") questions, and the coach's overall comment on an evaluation.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing form versions had no critical questions: false keeps their scores as they were.
    op.add_column(
        "scorecard_questions",
        sa.Column("critical", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("evaluations", sa.Column("coach_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("coach_comment")
    with op.batch_alter_table("scorecard_questions") as batch:
        batch.drop_column("critical")
