"""Särskild fördjupning (§7.1.3): in-depth reviews, the risk signals they were opened on
(findings, repeated breaches, complaints, ärenden), the requirements of their conclusions and
the files the unit handed in (in the evidence store).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "in_depth_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("concern", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "opened",
                "material_requested",
                "material_submitted",
                "concluded",
                "action_plan",
                "sanction",
                "no_action",
                "cancelled",
                name="review_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dialog_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("material_request", sa.Text(), nullable=True),
        sa.Column("material_requested_on", sa.Date(), nullable=True),
        sa.Column("material_deadline", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("analysis", sa.Text(), nullable=True),
        sa.Column("conclusions", sa.Text(), nullable=True),
        sa.Column("concluded_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("action_plan_id", sa.Integer(), nullable=True),
        sa.Column("sanction_case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_plan_id"],
            ["action_plans.id"],
            name=op.f("fk_in_depth_reviews_action_plan_id_action_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_in_depth_reviews_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["follow_up_dialogs.id"],
            name=op.f("fk_in_depth_reviews_dialog_id_follow_up_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["sanction_case_id"],
            ["sanction_cases.id"],
            name=op.f("fk_in_depth_reviews_sanction_case_id_sanction_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_in_depth_reviews_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_depth_reviews")),
    )
    with op.batch_alter_table("in_depth_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_in_depth_reviews_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "review_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["in_depth_reviews.id"],
            name=op.f("fk_review_files_review_id_in_depth_reviews"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_review_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_files")),
    )
    with op.batch_alter_table("review_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_files_review_id"), ["review_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_files_sha256"), ["sha256"], unique=False)

    op.create_table(
        "review_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["in_depth_reviews.id"],
            name=op.f("fk_review_requirements_review_id_in_depth_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requirements")),
    )
    with op.batch_alter_table("review_requirements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_requirements_review_id"), ["review_id"], unique=False
        )

    op.create_table(
        "review_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "finding",
                "repeated_breach",
                "complaint",
                "case",
                name="signal_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("requirement_code", sa.String(length=120), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_review_signals_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_review_signals_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["in_depth_reviews.id"],
            name=op.f("fk_review_signals_review_id_in_depth_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_signals")),
    )
    with op.batch_alter_table("review_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_signals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_signals_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_signals_review_id"), ["review_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_signals_review_id"))
        batch_op.drop_index(batch_op.f("ix_review_signals_finding_id"))
        batch_op.drop_index(batch_op.f("ix_review_signals_case_id"))

    op.drop_table("review_signals")
    with op.batch_alter_table("review_requirements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_requirements_review_id"))

    op.drop_table("review_requirements")
    with op.batch_alter_table("review_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_review_files_review_id"))

    op.drop_table("review_files")
    with op.batch_alter_table("in_depth_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_in_depth_reviews_unit_id"))

    op.drop_table("in_depth_reviews")
