"""Catalog: editions, requirements (checklist items), tilläggsuppdrag and load records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_file", sa.String(length=200), nullable=True),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_editions")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_editions_code")),
    )
    with op.batch_alter_table("catalog_editions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_editions_family"), ["family"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("performers", sa.JSON(), nullable=False),
        sa.Column("compensation", sa.JSON(), nullable=False),
        sa.Column("total_tkr", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["catalog_editions.id"],
            name=op.f("fk_assignments_edition_id_catalog_editions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("edition_id", "code", name="uq_assignments_edition_code"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_edition_id"), ["edition_id"], unique=False)

    op.create_table(
        "catalog_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_label", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["catalog_editions.id"],
            name=op.f("fk_catalog_loads_edition_id_catalog_editions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_loads")),
    )
    with op.batch_alter_table("catalog_loads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_loads_edition_id"), ["edition_id"], unique=False
        )

    op.create_table(
        "requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("heading", sa.String(length=300), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "obligation",
                "prohibition",
                name="requirement_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column(
            "answer_type",
            sa.Enum(
                "yes_no",
                "named_person",
                "count_ratio",
                "date_deadline",
                "weekly_schedule",
                "selection",
                "document",
                "service_level",
                "number",
                "free_text",
                name="answer_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("answer_params", sa.JSON(), nullable=False),
        sa.Column("applies_to", sa.JSON(), nullable=False),
        sa.Column(
            "recurrence",
            sa.Enum(
                "continuous",
                "annual",
                "monthly",
                "on_event",
                name="recurrence",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("deadline", sa.String(length=5), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "patient_safety",
                "high",
                "normal",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assignment_code", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["catalog_editions.id"],
            name=op.f("fk_requirements_edition_id_catalog_editions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirements")),
        sa.UniqueConstraint("edition_id", "code", name="uq_requirements_edition_code"),
    )
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_requirements_edition_id"), ["edition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_requirements_section_key"), ["section_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requirements_section_key"))
        batch_op.drop_index(batch_op.f("ix_requirements_edition_id"))

    op.drop_table("requirements")
    with op.batch_alter_table("catalog_loads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_loads_edition_id"))

    op.drop_table("catalog_loads")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_edition_id"))

    op.drop_table("assignments")
    with op.batch_alter_table("catalog_editions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_editions_family"))

    op.drop_table("catalog_editions")
