"""Threads are keyed by the account inside the tool too (``threads.provider_account``).

Chatwoot conversation numbers and Zendesk ticket ids are unique within one account only: keyed by
``(channel, provider, provider_id)``, the second account's ticket 33 was stored into the first
account's. Threads stored before this get "" (account not known); the importer claims such a thread
for an account only when the import shares a message with it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("provider_account", sa.String(255), server_default="", nullable=False))
        batch.drop_constraint("uq_threads_channel_provider_provider_id", type_="unique")
        batch.create_unique_constraint(
            "uq_threads_channel_provider_provider_account_provider_id",
            ["channel", "provider", "provider_account", "provider_id"],
        )


def downgrade() -> None:
    # Two accounts' threads with one id cannot share the old key: downgrading refuses (the unique
    # constraint fails) rather than mixing them.
    with op.batch_alter_table("threads") as batch:
        batch.drop_constraint("uq_threads_channel_provider_provider_account_provider_id", type_="unique")
        batch.create_unique_constraint(
            "uq_threads_channel_provider_provider_id", ["channel", "provider", "provider_id"]
        )
        batch.drop_column("provider_account")
