"""Action plan (åtgärdsplan, §7.1.3): plans, their measures and the findings they remedy.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "submitted",
                "returned",
                "approved",
                "reported",
                "verified",
                "closed",
                name="plan_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_action_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["follow_up_dialogs.id"],
            name=op.f("fk_action_plans_dialog_id_follow_up_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_action_plans_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_plans")),
    )
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_plans_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "action_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["action_plans.id"], name=op.f("fk_action_measures_plan_id_action_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_measures")),
    )
    with op.batch_alter_table("action_measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_measures_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "action_plan_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_action_plan_findings_finding_id_findings"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["action_plans.id"],
            name=op.f("fk_action_plan_findings_plan_id_action_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_plan_findings")),
        sa.UniqueConstraint("plan_id", "finding_id", name="uq_action_plan_findings_plan_finding"),
    )
    with op.batch_alter_table("action_plan_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_plan_findings_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_action_plan_findings_plan_id"), ["plan_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_plan_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_plan_findings_plan_id"))
        batch_op.drop_index(batch_op.f("ix_action_plan_findings_finding_id"))

    op.drop_table("action_plan_findings")
    with op.batch_alter_table("action_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_measures_plan_id"))

    op.drop_table("action_measures")
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_plans_unit_id"))

    op.drop_table("action_plans")
