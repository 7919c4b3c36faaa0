"""The joint dialog (gemensam dialog, §7.1.2, issue 12).

- ``joint_dialogs``: date, place, theme, agenda (when sent, by whom, why late), minutes (when
  published, by whom), cancel reason; ``joint_dialog_recipients`` (who the agenda went to),
  ``joint_dialog_attendance`` (one row per invited unit), ``joint_follow_ups`` (from the
  minutes; the finding each became).
- ``findings``: ``item_id`` and ``round_id`` may be empty — a finding raised from a joint
  dialog's follow-up names its requirement and unit, not a checklist item.
- ``reminders``: ``unit_id`` may be empty — the purchaser's own duty (two joint dialogs a year)
  is no unit's.

The downgrade removes the joint dialogs, and the findings they raised (with what refers to
those findings) and the unit-less reminders, since the older schema cannot hold them.

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0014"
branch_labels = None
depends_on = None


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


STATES = [
    "planned",
    "agenda_written",
    "agenda_sent",
    "held",
    "minutes_written",
    "minutes_published",
    "closed",
    "cancelled",
]


def upgrade() -> None:
    op.create_table(
        "joint_dialogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=300), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("status", _enum(STATES, "joint_dialog_state"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("agenda", sa.Text(), nullable=True),
        sa.Column("agenda_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agenda_sent_by_id", sa.Integer(), nullable=True),
        sa.Column("late_reason", sa.Text(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("minutes_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_published_by_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_joint_dialogs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agenda_sent_by_id"],
            ["users.id"],
            name=op.f("fk_joint_dialogs_agenda_sent_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["minutes_published_by_id"],
            ["users.id"],
            name=op.f("fk_joint_dialogs_minutes_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_dialogs")),
    )
    with op.batch_alter_table("joint_dialogs") as batch_op:
        batch_op.create_index(batch_op.f("ix_joint_dialogs_meeting_on"), ["meeting_on"])
    op.create_table(
        "joint_dialog_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("joint_dialog_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["joint_dialog_id"],
            ["joint_dialogs.id"],
            name=op.f("fk_joint_dialog_recipients_joint_dialog_id_joint_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_joint_dialog_recipients_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_joint_dialog_recipients_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_dialog_recipients")),
        sa.UniqueConstraint(
            "joint_dialog_id", "unit_id", "user_id", name="uq_joint_dialog_recipients"
        ),
    )
    with op.batch_alter_table("joint_dialog_recipients") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_joint_dialog_recipients_joint_dialog_id"), ["joint_dialog_id"]
        )
    op.create_table(
        "joint_dialog_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("joint_dialog_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", _enum(["attended", "represented", "absent"], "attendance"), nullable=True
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role_title", sa.String(length=100), nullable=True),
        sa.Column("absence_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["joint_dialog_id"],
            ["joint_dialogs.id"],
            name=op.f("fk_joint_dialog_attendance_joint_dialog_id_joint_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_joint_dialog_attendance_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_dialog_attendance")),
        sa.UniqueConstraint("joint_dialog_id", "unit_id", name="uq_joint_dialog_attendance"),
    )
    with op.batch_alter_table("joint_dialog_attendance") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_joint_dialog_attendance_joint_dialog_id"), ["joint_dialog_id"]
        )
    op.create_table(
        "joint_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("joint_dialog_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("status", _enum(["open", "finding", "done"], "follow_up_state"), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["joint_dialog_id"],
            ["joint_dialogs.id"],
            name=op.f("fk_joint_follow_ups_joint_dialog_id_joint_dialogs"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_joint_follow_ups_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_joint_follow_ups_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_joint_follow_ups_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_follow_ups")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_joint_follow_ups_finding_id")),
    )
    with op.batch_alter_table("joint_follow_ups") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_joint_follow_ups_joint_dialog_id"), ["joint_dialog_id"]
        )
    with op.batch_alter_table("findings") as batch_op:
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM reminders WHERE unit_id IS NULL")
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
    orphan = "(SELECT id FROM findings WHERE item_id IS NULL OR round_id IS NULL)"
    op.execute(f"UPDATE joint_follow_ups SET finding_id = NULL WHERE finding_id IN {orphan}")
    for table in ("dialog_findings", "action_plan_findings", "sanction_grounds"):
        op.execute(f"DELETE FROM {table} WHERE finding_id IN {orphan}")  # noqa: S608
    op.execute(f"UPDATE ivo_referrals SET finding_id = NULL WHERE finding_id IN {orphan}")
    op.execute("DELETE FROM findings WHERE item_id IS NULL OR round_id IS NULL")
    with op.batch_alter_table("findings") as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
    for table in (
        "joint_follow_ups",
        "joint_dialog_attendance",
        "joint_dialog_recipients",
        "joint_dialogs",
    ):
        op.drop_table(table)
