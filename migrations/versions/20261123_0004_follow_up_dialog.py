"""Follow-up dialog (uppföljningsdialog, §7.1.1): dialogs, participants, findings discussed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_dialogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "material_requested",
                "material_submitted",
                "under_review",
                "meeting_booked",
                "meeting_held",
                "closed",
                "cancelled",
                name="dialog_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("material_request", sa.Text(), nullable=True),
        sa.Column("material_deadline", sa.Date(), nullable=True),
        sa.Column("material_comment", sa.Text(), nullable=True),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meeting_place", sa.String(length=300), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_follow_up_dialogs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_follow_up_dialogs_round_id_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_follow_up_dialogs_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_dialogs")),
    )
    with op.batch_alter_table("follow_up_dialogs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_dialogs_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "dialog_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role_title", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["follow_up_dialogs.id"],
            name=op.f("fk_dialog_participants_dialog_id_follow_up_dialogs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_participants")),
    )
    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dialog_participants_dialog_id"), ["dialog_id"], unique=False
        )

    op.create_table(
        "dialog_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column(
            "disposition",
            sa.Enum(
                "no_action",
                "remark",
                "action_plan",
                "in_depth_review",
                "sanction_case",
                name="disposition",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["follow_up_dialogs.id"],
            name=op.f("fk_dialog_findings_dialog_id_follow_up_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_dialog_findings_finding_id_findings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_findings")),
        sa.UniqueConstraint("dialog_id", "finding_id", name="uq_dialog_findings_dialog_finding"),
    )
    with op.batch_alter_table("dialog_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dialog_findings_dialog_id"), ["dialog_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dialog_findings_finding_id"), ["finding_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dialog_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_findings_finding_id"))
        batch_op.drop_index(batch_op.f("ix_dialog_findings_dialog_id"))

    op.drop_table("dialog_findings")
    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_participants_dialog_id"))

    op.drop_table("dialog_participants")
    with op.batch_alter_table("follow_up_dialogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_dialogs_unit_id"))

    op.drop_table("follow_up_dialogs")
