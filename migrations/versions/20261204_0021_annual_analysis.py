"""The annual analysis (samlad årlig analys, §7.1.4): ``annual_analyses``, one row per version
of a follow-up year's report, and triggers (SQLite and PostgreSQL) that refuse any UPDATE or
DELETE of a published row — the database's part of keeping a published edition as it was.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

MESSAGE = "annual_analyses: a published analysis cannot be changed or deleted"


def upgrade() -> None:
    op.create_table(
        "annual_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "review",
                "published",
                name="analysis_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column("conclusions", sa.Text(), nullable=False),
        sa.Column("section_texts", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status != 'published' OR (snapshot IS NOT NULL AND published_at IS NOT NULL)",
            name=op.f("ck_annual_analyses_published_has_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_annual_analyses_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["annual_analyses.id"],
            name=op.f("fk_annual_analyses_previous_id_annual_analyses"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_annual_analyses_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_analyses")),
        sa.UniqueConstraint("year", "version", name="uq_annual_analyses_year_version"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION annual_analyses_keep_published() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.status = 'published' THEN
                    RAISE EXCEPTION '{MESSAGE} (row % refused)', OLD.id;
                END IF;
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER annual_analyses_keep_published BEFORE UPDATE OR DELETE "
            "ON annual_analyses FOR EACH ROW EXECUTE FUNCTION annual_analyses_keep_published()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER annual_analyses_keep_published_{event.lower()}
                BEFORE {event} ON annual_analyses
                WHEN OLD.status = 'published'
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                """
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER annual_analyses_keep_published ON annual_analyses")
        op.execute("DROP FUNCTION annual_analyses_keep_published()")
    else:
        op.execute("DROP TRIGGER annual_analyses_keep_published_update")
        op.execute("DROP TRIGGER annual_analyses_keep_published_delete")
    op.drop_table("annual_analyses")
