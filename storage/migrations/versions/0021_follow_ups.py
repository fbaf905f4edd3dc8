"""Follow-ups: the next step after a call, chat or e-mail thread, for a user or an agent, due when.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("for_user_id", sa.Integer(), nullable=True),
        sa.Column("for_agent_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.CheckConstraint(
            "(for_user_id IS NULL) <> (for_agent_id IS NULL)", name=op.f("ck_follow_ups_one_assignee")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name="fk_follow_ups_thread_id_threads", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["for_user_id"], ["users.id"], name="fk_follow_ups_for_user_id_users"),
        sa.ForeignKeyConstraint(["for_agent_id"], ["agents.id"], name="fk_follow_ups_for_agent_id_agents"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_follow_ups_created_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    for column in ("thread_id", "for_user_id", "for_agent_id", "due_at"):
        op.create_index(f"ix_follow_ups_{column}", "follow_ups", [column])


def downgrade() -> None:
    for column in ("thread_id", "for_user_id", "for_agent_id", "due_at"):
        op.drop_index(f"ix_follow_ups_{column}", table_name="follow_ups")
    op.drop_table("follow_ups")
