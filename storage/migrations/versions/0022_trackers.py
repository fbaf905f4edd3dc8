"""Trackers: saved searches that tag every call they match, and tell their owner of new ones.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trackers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_trackers_owner_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trackers"),
        sa.UniqueConstraint("name", name="uq_trackers_name"),
    )
    op.create_index("ix_trackers_owner_id", "trackers", ["owner_id"])
    op.create_table(
        "tracker_matches",
        sa.Column("tracker_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tracker_id"], ["trackers.id"], name="fk_tracker_matches_tracker_id_trackers", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name="fk_tracker_matches_thread_id_threads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tracker_id", "thread_id", name="pk_tracker_matches"),
    )
    op.create_index("ix_tracker_matches_thread_id", "tracker_matches", ["thread_id"])


def downgrade() -> None:
    op.drop_index("ix_tracker_matches_thread_id", table_name="tracker_matches")
    op.drop_table("tracker_matches")
    op.drop_index("ix_trackers_owner_id", table_name="trackers")
    op.drop_table("trackers")
