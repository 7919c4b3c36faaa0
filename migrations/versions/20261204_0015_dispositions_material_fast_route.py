"""Dispositions that open what they name, dialog material, and the patient-safety fast route
(issue 11).

- ``dialog_findings``: the action plan or sanction case a disposition opened
  (``action_plan_id``, ``sanction_case_id``).
- ``sanction_cases``: ``dialog_id``, the dialog whose disposition opened the case.
- ``dialog_material_files``: uploaded dialog material, in the evidence store.
- ``ivo_referrals``: a recorded decision on a patient-safety finding — referred (date and
  IVO's reference) or not referred with a reason; date and reference become optional for the
  latter. Existing rows are referrals.

Revision ID: 0015
Revises: 0019
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dialog_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sanction_case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dialog_findings_action_plan_id_action_plans"),
            "action_plans",
            ["action_plan_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dialog_findings_sanction_case_id_sanction_cases"),
            "sanction_cases",
            ["sanction_case_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_dialog_findings_action_plan_id"), ["action_plan_id"])
        batch_op.create_index(
            batch_op.f("ix_dialog_findings_sanction_case_id"), ["sanction_case_id"]
        )

    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dialog_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sanction_cases_dialog_id_follow_up_dialogs"),
            "follow_up_dialogs",
            ["dialog_id"],
            ["id"],
        )

    op.create_table(
        "dialog_material_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["follow_up_dialogs.id"],
            name=op.f("fk_dialog_material_files_dialog_id_follow_up_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_dialog_material_files_uploaded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_material_files")),
    )
    with op.batch_alter_table("dialog_material_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dialog_material_files_dialog_id"), ["dialog_id"])
        batch_op.create_index(batch_op.f("ix_dialog_material_files_sha256"), ["sha256"])

    with op.batch_alter_table("ivo_referrals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("referred", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.alter_column("referred_on", existing_type=sa.Date(), nullable=True)
        batch_op.alter_column("reference", existing_type=sa.String(length=100), nullable=True)


def downgrade() -> None:
    # A decision not to refer has no place in the old table (date and reference required).
    op.execute("DELETE FROM ivo_referrals WHERE referred = false OR referred_on IS NULL")
    with op.batch_alter_table("ivo_referrals", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column("referred_on", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("reason")
        batch_op.drop_column("referred")

    with op.batch_alter_table("dialog_material_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_material_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_dialog_material_files_dialog_id"))
    op.drop_table("dialog_material_files")

    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sanction_cases_dialog_id_follow_up_dialogs"), type_="foreignkey"
        )
        batch_op.drop_column("dialog_id")

    with op.batch_alter_table("dialog_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_findings_sanction_case_id"))
        batch_op.drop_index(batch_op.f("ix_dialog_findings_action_plan_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_dialog_findings_sanction_case_id_sanction_cases"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_dialog_findings_action_plan_id_action_plans"), type_="foreignkey"
        )
        batch_op.drop_column("sanction_case_id")
        batch_op.drop_column("action_plan_id")
