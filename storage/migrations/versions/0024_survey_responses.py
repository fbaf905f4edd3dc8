"""Survey responses (CSAT, NPS, CES) tied to a conversation, and the indexes the channel and agent
figures read: a period's conversations by start, and each conversation's messages by direction.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("response_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name="fk_survey_responses_thread_id_threads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_survey_responses"),
        sa.UniqueConstraint("source", "response_id", name="uq_survey_responses_source_response_id"),
    )
    op.create_index("ix_survey_responses_thread_id", "survey_responses", ["thread_id"])
    op.create_index("ix_threads_started_at_channel_agent", "threads", ["started_at", "channel", "agent_id"])
    op.create_index("ix_messages_thread_direction_sent", "messages", ["thread_id", "direction", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_thread_direction_sent", table_name="messages")
    op.drop_index("ix_threads_started_at_channel_agent", table_name="threads")
    op.drop_index("ix_survey_responses_thread_id", table_name="survey_responses")
    op.drop_table("survey_responses")
