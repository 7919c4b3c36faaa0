"""Recurring reports (issue 12): the monthly telephone report of a unit off the region's
platform (§6.9), the patient-safety report by 1 March (§2.6) and the tilläggsuppdrag annual
reports with their rows (seed 000).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_safety_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_patient_safety_reports_submitted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_patient_safety_reports_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_safety_reports")),
        sa.UniqueConstraint("unit_id", "year", name="uq_patient_safety_reports_unit_year"),
    )
    with op.batch_alter_table("patient_safety_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_safety_reports_sha256"), ["sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_safety_reports_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "telephone_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("incoming_calls", sa.Integer(), nullable=False),
        sa.Column("answered_calls", sa.Integer(), nullable=False),
        sa.Column("callback_calls", sa.Integer(), nullable=False),
        sa.Column(
            "mean_wait_minutes", sa.Numeric(precision=7, scale=1, asdecimal=False), nullable=False
        ),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "answered_calls <= incoming_calls AND callback_calls <= answered_calls",
            name=op.f("ck_telephone_reports_answered_within_incoming"),
        ),
        sa.CheckConstraint(
            "month BETWEEN 1 AND 12", name=op.f("ck_telephone_reports_month_in_year")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_telephone_reports_submitted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_telephone_reports_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephone_reports")),
        sa.UniqueConstraint("unit_id", "year", "month", name="uq_telephone_reports_unit_month"),
    )
    with op.batch_alter_table("telephone_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telephone_reports_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "assignment_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_reports_assignment_id_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_assignment_reports_submitted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_assignment_reports_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_reports")),
        sa.UniqueConstraint(
            "unit_id", "assignment_id", "year", name="uq_assignment_reports_unit_assignment_year"
        ),
    )
    with op.batch_alter_table("assignment_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_reports_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignment_reports_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "assignment_report_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=120), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["assignment_reports.id"],
            name=op.f("fk_assignment_report_rows_report_id_assignment_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["requirements.id"],
            name=op.f("fk_assignment_report_rows_requirement_id_requirements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_report_rows")),
        sa.UniqueConstraint("report_id", "requirement_id", name="uq_assignment_report_rows_req"),
    )
    with op.batch_alter_table("assignment_report_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_report_rows_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignment_report_rows_requirement_id"), ["requirement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignment_report_rows_sha256"), ["sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment_report_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_report_rows_sha256"))
        batch_op.drop_index(batch_op.f("ix_assignment_report_rows_requirement_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_report_rows_report_id"))

    op.drop_table("assignment_report_rows")
    with op.batch_alter_table("assignment_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_reports_unit_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_reports_assignment_id"))

    op.drop_table("assignment_reports")
    with op.batch_alter_table("telephone_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telephone_reports_unit_id"))

    op.drop_table("telephone_reports")
    with op.batch_alter_table("patient_safety_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_safety_reports_unit_id"))
        batch_op.drop_index(batch_op.f("ix_patient_safety_reports_sha256"))

    op.drop_table("patient_safety_reports")
