"""Disputes as threads: the messages of a dispute about an evaluation. An open dispute's agent
comment becomes its first message, so older disputes carry on in the new workflow.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("old_score", sa.Float(), nullable=True),
        sa.Column("new_score", sa.Float(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name="fk_evaluation_messages_evaluation_id_evaluations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name="fk_evaluation_messages_author_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_messages"),
    )
    op.create_index("ix_evaluation_messages_evaluation_id", "evaluation_messages", ["evaluation_id"])
    # The dispute was written by the account linked to the evaluated agent; its moment was not kept,
    # so the submission's stands in (the audit log has the exact one).
    op.execute(
        """
        INSERT INTO evaluation_messages (evaluation_id, author_id, kind, text, created_at)
        SELECT e.id,
               (SELECT MIN(u.id) FROM users u WHERE u.agent_id = e.agent_id),
               'dispute',
               e.agent_comment,
               COALESCE(e.submitted_at, e.created_at)
        FROM evaluations e
        WHERE e.status = 'disputed' AND e.agent_comment IS NOT NULL
        """
    )


def downgrade() -> None:
    # Closed disputes read as disputed again: the statuses before this revision knew no other end.
    op.execute("UPDATE evaluations SET status = 'disputed' WHERE status IN ('upheld', 'resolved')")
    op.drop_index("ix_evaluation_messages_evaluation_id", table_name="evaluation_messages")
    op.drop_table("evaluation_messages")
