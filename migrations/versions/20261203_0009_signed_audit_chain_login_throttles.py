"""Signed audit chain, inserts that must continue it, and login throttles that cannot be raced.

- ``audit_events.key_id``: the id of the key a row's HMAC-SHA256 is signed with. Existing rows
  keep NULL and their plain SHA-256 hashes (they verify as before); every row written from now
  on is keyed (``audit.trail``).
- A BEFORE INSERT trigger on ``audit_events`` (SQLite and PostgreSQL) refuses any row that does
  not continue the chain: its id must be the head's + 1 and its ``prev_hash`` the head's hash
  (and on SQLite its hash must be new). That refuses ``INSERT OR REPLACE`` of an old id on
  SQLite, which deletes the old row without firing the DELETE trigger, and ``INSERT ... ON
  CONFLICT DO UPDATE`` on PostgreSQL.
- ``login_throttles`` (one counter per pair, address and user name, counted atomically) replaces
  ``login_attempts`` (one row per attempt, counted with a racy SELECT count). The old rows are
  only a 15-minute throttling memory and are not carried over.

Downgrading drops ``key_id``: rows signed with the key then no longer verify with the older
code, which knows no key. Downgrade only to back out of this revision at once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
MESSAGE = "audit_events is append-only: an insert must continue the chain"


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=16), nullable=True))
    _create_chain_trigger()

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("known_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index(
        op.f("ix_login_throttles_last_attempt_at"),
        "login_throttles",
        ["last_attempt_at"],
        unique=False,
    )
    op.drop_index("ix_login_attempts_username_key_at", table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_address_key"), table_name="login_attempts")
    op.drop_table("login_attempts")


def _create_chain_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_continue_chain() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                head_id integer;
                head_hash varchar;
            BEGIN
                SELECT id, hash INTO head_id, head_hash
                    FROM audit_events ORDER BY id DESC LIMIT 1;
                IF NEW.id IS DISTINCT FROM COALESCE(head_id, 0) + 1
                   OR NEW.prev_hash IS DISTINCT FROM COALESCE(head_hash, '{GENESIS_HASH}') THEN
                    RAISE EXCEPTION '{MESSAGE} (row % refused)', NEW.id;
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_continue_chain BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_continue_chain()"
        )
    else:
        op.execute(
            f"""
            CREATE TRIGGER audit_events_continue_chain BEFORE INSERT ON audit_events
            WHEN NEW.id IS NOT (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_events)
              OR NEW.prev_hash IS NOT COALESCE(
                  (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), '{GENESIS_HASH}')
              OR EXISTS (SELECT 1 FROM audit_events WHERE hash = NEW.hash)
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """
        )


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        op.f("ix_login_attempts_address_key"), "login_attempts", ["address_key"], unique=False
    )
    op.create_index(
        "ix_login_attempts_username_key_at",
        "login_attempts",
        ["username_key", "at"],
        unique=False,
    )
    op.drop_index(op.f("ix_login_throttles_last_attempt_at"), table_name="login_throttles")
    op.drop_table("login_throttles")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_continue_chain ON audit_events")
        op.execute("DROP FUNCTION audit_events_continue_chain()")
        op.drop_column("audit_events", "key_id")
    else:
        op.execute("DROP TRIGGER audit_events_continue_chain")
        # Natively (SQLite 3.35+), not through a batch copy of the table, which would lose the
        # UPDATE and DELETE triggers of revision 0001 with the old table.
        op.execute("ALTER TABLE audit_events DROP COLUMN key_id")
