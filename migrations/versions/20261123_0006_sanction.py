"""Sanction process: cases on the ladder of decisions, their grounds, IVO referrals.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sanction_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "opened",
                "informed",
                "response_received",
                "deadline_passed",
                "assessed",
                "decided",
                "notified",
                "carried_out",
                "closed",
                "withdrawn",
                name="sanction_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("response_deadline", sa.Date(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "remark",
                "action_plan",
                "penalty",
                "reduction",
                "termination",
                name="decision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column(
            "deciding_body",
            sa.Enum(
                "bestallarenheten",
                "regionstyrelsen",
                name="deciding_body",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("diarienummer", sa.String(length=50), nullable=True),
        sa.Column("penalty_sek", sa.Integer(), nullable=True),
        sa.Column("reduction_percent", sa.Double(), nullable=True),
        sa.Column("reduction_from", sa.Date(), nullable=True),
        sa.Column("reduction_to", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sanction_cases_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_sanction_cases_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanction_cases")),
    )
    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanction_cases_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "ivo_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("referred_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["sanction_cases.id"], name=op.f("fk_ivo_referrals_case_id_sanction_cases")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_ivo_referrals_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_id"], ["users.id"], name=op.f("fk_ivo_referrals_referred_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_ivo_referrals_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivo_referrals")),
    )
    with op.batch_alter_table("ivo_referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ivo_referrals_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "sanction_grounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["sanction_cases.id"],
            name=op.f("fk_sanction_grounds_case_id_sanction_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_sanction_grounds_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["action_plans.id"], name=op.f("fk_sanction_grounds_plan_id_action_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanction_grounds")),
    )
    with op.batch_alter_table("sanction_grounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanction_grounds_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sanction_grounds_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sanction_grounds_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sanction_grounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanction_grounds_plan_id"))
        batch_op.drop_index(batch_op.f("ix_sanction_grounds_finding_id"))
        batch_op.drop_index(batch_op.f("ix_sanction_grounds_case_id"))

    op.drop_table("sanction_grounds")
    with op.batch_alter_table("ivo_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ivo_referrals_unit_id"))

    op.drop_table("ivo_referrals")
    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanction_cases_unit_id"))

    op.drop_table("sanction_cases")
