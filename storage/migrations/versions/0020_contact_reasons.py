"""Contact reason and outcome: admin-defined labels, rules, people's labellings and model versions.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_labels"),
        sa.UniqueConstraint("label_set", "name", name="uq_contact_labels_label_set_name"),
    )
    op.create_table(
        "contact_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["contact_labels.id"],
            name="fk_contact_rules_label_id_contact_labels",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_rules"),
    )
    op.create_index("ix_contact_rules_label_id", "contact_rules", ["label_id"])
    op.create_table(
        "contact_labellings",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("reason_id", sa.Integer(), nullable=True),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("suggested_reason_id", sa.Integer(), nullable=True),
        sa.Column("suggested_outcome_id", sa.Integer(), nullable=True),
        sa.Column("labelled_by", sa.String(length=320), nullable=False),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name="fk_contact_labellings_thread_id_threads", ondelete="CASCADE"
        ),
        *(
            sa.ForeignKeyConstraint(
                [column], ["contact_labels.id"], name=f"fk_contact_labellings_{column}_contact_labels"
            )
            for column in ("reason_id", "outcome_id", "suggested_reason_id", "suggested_outcome_id")
        ),
        sa.PrimaryKeyConstraint("thread_id", name="pk_contact_labellings"),
    )
    op.create_index("ix_contact_labellings_reason_id", "contact_labellings", ["reason_id"])
    op.create_index("ix_contact_labellings_outcome_id", "contact_labellings", ["outcome_id"])
    op.create_table(
        "reason_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("folds", sa.Integer(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("label_counts", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("trained_by", sa.String(length=320), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reason_models"),
        sa.UniqueConstraint("label_set", "version", name="uq_reason_models_label_set_version"),
    )


def downgrade() -> None:
    op.drop_table("reason_models")
    op.drop_index("ix_contact_labellings_outcome_id", table_name="contact_labellings")
    op.drop_index("ix_contact_labellings_reason_id", table_name="contact_labellings")
    op.drop_table("contact_labellings")
    op.drop_index("ix_contact_rules_label_id", table_name="contact_rules")
    op.drop_table("contact_rules")
    op.drop_table("contact_labels")
