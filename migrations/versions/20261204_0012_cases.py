"""Ärenden: the notices and applications a health centre files with the purchaser.

- ``cases``: one row per case of every kind (begränsat öppethållande §2.7.5, begränsat utbud
  §2.7.6, listningstak §4.9.1, listningsstopp §4.9.2, byte av verksamhetschef §3.1.1, samarbete
  §2.13.1, filial §3.9, flytt §3.3/§3.8, underleverantör §3.20, Lex Maria §2.6), its state, the
  period applied for and the one decided, the decision (outcome, who, when, diarienummer), the
  type's own answers as JSON, the branch a granted filial created and the capitation case a
  restricted service led to;
- ``case_partners``: the units a case names (partners, the health centre referred to);
- ``case_documents``: its attached documents (content in the case store, by SHA-256).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "begransat_oppethallande",
                "begransat_utbud",
                "listningstak",
                "listningsstopp",
                "byte_verksamhetschef",
                "samverkan",
                "filial",
                "flytt",
                "underleverantor",
                "lex_maria",
                name="case_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "completion_requested",
                "granted",
                "refused",
                "noted",
                "in_effect",
                "closed",
                "withdrawn",
                name="case_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("completion_message", sa.Text(), nullable=True),
        sa.Column("completion_deadline", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "granted",
                "refused",
                "noted",
                name="case_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("decided_from", sa.Date(), nullable=True),
        sa.Column("decided_to", sa.Date(), nullable=True),
        sa.Column("decided_limit", sa.Integer(), nullable=True),
        sa.Column("diarienummer", sa.String(length=50), nullable=True),
        sa.Column("decision_rationale", sa.Text(), nullable=True),
        sa.Column("in_effect_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.Column("branch_unit_id", sa.Integer(), nullable=True),
        sa.Column("capitation_case_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "decided_to IS NULL OR decided_from IS NULL OR decided_to >= decided_from",
            name=op.f("ck_cases_decided_period_in_order"),
        ),
        sa.CheckConstraint(
            "period_to IS NULL OR period_from IS NULL OR period_to >= period_from",
            name=op.f("ck_cases_period_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["branch_unit_id"], ["units.id"], name=op.f("fk_cases_branch_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["capitation_case_id"],
            ["sanction_cases.id"],
            name=op.f("fk_cases_capitation_case_id_sanction_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_cases_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_cases_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_cases_submitted_by_id_users")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_cases_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("capitation_case_id", name=op.f("uq_cases_capitation_case_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "case_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "application",
                "plan",
                "risk_analysis",
                "report",
                "investigation",
                "measures",
                "ivo_decision",
                "information",
                "other",
                name="case_document_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_documents_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_case_documents_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_documents")),
    )
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_documents_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_documents_sha256"), ["sha256"], unique=False)

    op.create_table(
        "case_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_partners_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_case_partners_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_partners")),
        sa.UniqueConstraint("case_id", "unit_id", name="uq_case_partners_case_unit"),
    )
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_partners_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_partners_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_partners_unit_id"))
        batch_op.drop_index(batch_op.f("ix_case_partners_case_id"))

    op.drop_table("case_partners")
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_documents_sha256"))
        batch_op.drop_index(batch_op.f("ix_case_documents_case_id"))

    op.drop_table("case_documents")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_unit_id"))

    op.drop_table("cases")
