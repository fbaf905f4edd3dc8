"""The call list: an index on a recording's duration, which the list sorts and filters on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_recordings_duration"), "recordings", ["duration"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recordings_duration"), table_name="recordings")
