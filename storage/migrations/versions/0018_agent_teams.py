"""Teams: an agent's team, a name an admin sets; indexed for the team view and the call list's filter.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("team", sa.String(length=100), nullable=True))
    op.create_index(op.f("ix_agents_team"), "agents", ["team"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_agents_team"), table_name="agents")
    # Not through a batch: SQLite drops a plain column in place (3.35 and later), and a batch would
    # copy the agents table, which every call and account points at.
    op.drop_column("agents", "team")
