"""Reminders that reach people (issue 12): the outbox, e-mail addresses and notification
settings, calendar tokens, invitation addresses, and rounds that can be managed.

- ``outbox_messages``: one e-mail each, unique ``key``, delivery state and attempts.
- ``users``: ``email`` and four notification settings (on by default).
- ``calendar_tokens``: the SHA-256 of each personal iCal feed's secret, revocable.
- ``dialog_participants.email``: where the meeting invitation goes.
- ``rounds.closed_at``/``closed_by_id``; ``checklists.deadline`` (one unit's extended
  deadline) and the checklist state ``not_submitted`` (the round closed before it was).

Revision ID: 0017
Revises: 0021
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import audit.db

revision = "0017"
down_revision = "0021"
branch_labels = None
depends_on = None

CHECKLIST_OLD = ["open", "submitted", "returned", "accepted"]
CHECKLIST_NEW = [*CHECKLIST_OLD, "not_submitted"]


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


def upgrade() -> None:
    op.create_table(
        "calendar_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", audit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", audit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
    )
    with op.batch_alter_table("calendar_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                "uncertain",
                name="outbox_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", audit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", audit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", audit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("sent_at", audit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_messages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_messages_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))

    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", audit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_closed_by_id_users"), "users", ["closed_by_id"], ["id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("notify_due_soon", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("notify_overdue", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("notify_rounds", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "notify_invitations", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )

    _set_check("checklists", "status", "checklist_status", CHECKLIST_NEW)


def downgrade() -> None:
    # A closed round's unsubmitted checklists are open again under the old states.
    op.execute("UPDATE checklists SET status = 'open' WHERE status = 'not_submitted'")
    _set_check("checklists", "status", "checklist_status", CHECKLIST_OLD)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("notify_invitations")
        batch_op.drop_column("notify_rounds")
        batch_op.drop_column("notify_overdue")
        batch_op.drop_column("notify_due_soon")
        batch_op.drop_column("email")

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rounds_closed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.drop_column("email")

    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.drop_column("deadline")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_user_id"))
        batch_op.drop_index("ix_outbox_messages_due")

    op.drop_table("outbox_messages")
    with op.batch_alter_table("calendar_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_tokens_user_id"))

    op.drop_table("calendar_tokens")
