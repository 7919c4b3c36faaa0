"""Due process in the follow-up (issue 11): action plans that cannot get stuck, sanctions
decided the way a public body must.

- ``action_plans``: ``due_date`` becomes two dates, ``plan_due`` (hand the plan in) and
  ``measures_due`` (the measures done); existing plans get the old date for both, as it
  served both. ``withdraw_reason``; states ``failed`` (underkänd) and ``withdrawn``.
- ``plan_evidence_files``: files on the completion report, in the evidence store.
- ``sanction_cases``: the case's diarienummer (``case_number``), who assessed, rättelse,
  kommunicering (the intended decision, its reply time and the reply), the protocol paragraph,
  the five proportionality reasons and a recorded four-eyes exception; states
  ``rectification``, ``communicated``, ``communication_answered``; decisions ``no_action`` and
  ``escalation``. Existing cases keep their values; their ``decided_on`` is the day the
  decision was recorded (there was no meeting date before).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PLAN_OLD = ["requested", "submitted", "returned", "approved", "reported", "verified", "closed"]
PLAN_NEW = [*PLAN_OLD[:-1], "failed", "closed", "withdrawn"]
CASE_OLD = [
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
]
CASE_NEW = [
    *CASE_OLD[:5],
    "rectification",
    "communicated",
    "communication_answered",
    *CASE_OLD[5:],
]
DECISION_OLD = ["remark", "action_plan", "penalty", "reduction", "termination"]
DECISION_NEW = [
    "no_action",
    "remark",
    "action_plan",
    "escalation",
    "penalty",
    "reduction",
    "termination",
]


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _set_check(table: str, column: str, name: str, values: list[str]) -> None:
    """Replace the CHECK constraint of a non-native enum column with one for ``values``."""
    constraint = f"ck_{table}_{name}"
    condition = f"{column} IN ({', '.join(repr(v) for v in values)})"
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(constraint), type_="check")
            batch_op.create_check_constraint(name, condition)
    else:
        op.drop_constraint(op.f(constraint), table, type_="check")
        op.create_check_constraint(name, table, condition)


SANCTION_COLUMNS = [
    ("case_number", sa.String(length=50)),
    ("rectification_demand", sa.Text()),
    ("rectification_deadline", sa.Date()),
    ("rectification_outcome", sa.Text()),
    ("intended_grounds", sa.Text()),
    ("intended_penalty_sek", sa.Integer()),
    ("intended_percent", sa.Double()),
    ("intended_from", sa.Date()),
    ("intended_to", sa.Date()),
    ("communicated_on", sa.Date()),
    ("reply_deadline", sa.Date()),
    ("reply", sa.Text()),
    ("replied_on", sa.Date()),
    ("protocol_paragraph", sa.String(length=50)),
    ("prop_seriousness", sa.Text()),
    ("prop_duration", sa.Text()),
    ("prop_repetition", sa.Text()),
    ("prop_own_measures", sa.Text()),
    ("prop_patient_safety", sa.Text()),
    ("four_eyes_reason", sa.Text()),
]


def upgrade() -> None:
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_due", sa.Date(), nullable=True))
        batch_op.alter_column("due_date", new_column_name="measures_due")
        batch_op.add_column(sa.Column("withdraw_reason", sa.Text(), nullable=True))
    op.execute("UPDATE action_plans SET plan_due = measures_due")
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.alter_column("plan_due", existing_type=sa.Date(), nullable=False)
    _set_check("action_plans", "status", "plan_state", PLAN_NEW)

    op.create_table(
        "plan_evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["action_plans.id"],
            name=op.f("fk_plan_evidence_files_plan_id_action_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_plan_evidence_files_uploaded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_evidence_files")),
    )
    with op.batch_alter_table("plan_evidence_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_evidence_files_plan_id"), ["plan_id"])
        batch_op.create_index(batch_op.f("ix_plan_evidence_files_sha256"), ["sha256"])

    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        for name, type_ in SANCTION_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column("assessed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("intended_decision", _enum(DECISION_NEW, "intended_decision"), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sanction_cases_assessed_by_id_users"),
            "users",
            ["assessed_by_id"],
            ["id"],
        )
    _set_check("sanction_cases", "status", "sanction_state", CASE_NEW)
    _set_check("sanction_cases", "decision", "decision", DECISION_NEW)


def downgrade() -> None:
    # Rows in states or with decisions the old schema does not know cannot stay as they are:
    # a failed or withdrawn plan reads as closed, a case between assessment and decision as
    # assessed (its kommunicering is lost with the columns), a new decision as a remark.
    op.execute("UPDATE action_plans SET status = 'closed' WHERE status IN ('failed', 'withdrawn')")
    op.execute(
        "UPDATE sanction_cases SET status = 'assessed' "
        "WHERE status IN ('rectification', 'communicated', 'communication_answered')"
    )
    op.execute(
        "UPDATE sanction_cases SET decision = 'remark' "
        "WHERE decision IN ('no_action', 'escalation')"
    )
    _set_check("sanction_cases", "decision", "decision", DECISION_OLD)
    _set_check("sanction_cases", "status", "sanction_state", CASE_OLD)
    with op.batch_alter_table("sanction_cases", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sanction_cases_assessed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_sanction_cases_intended_decision"), type_="check")
        batch_op.drop_column("intended_decision")
        batch_op.drop_column("assessed_by_id")
        for name, _ in reversed(SANCTION_COLUMNS):
            batch_op.drop_column(name)

    with op.batch_alter_table("plan_evidence_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_evidence_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_plan_evidence_files_plan_id"))
    op.drop_table("plan_evidence_files")

    _set_check("action_plans", "status", "plan_state", PLAN_OLD)
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.drop_column("withdraw_reason")
        batch_op.alter_column("measures_due", new_column_name="due_date")
        batch_op.drop_column("plan_due")
