"""Personal API tokens for the read API (/api/v1/) and the log of their use.

- ``api_tokens``: one user's named token, stored only as the SHA-256 of its secret, with the
  first characters shown to tell tokens apart, its expiry, revocation and last use;
- ``api_token_uses``: one row per request made with a token (when, method, route, status).

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)
    op.create_table(
        "api_token_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_api_token_uses_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token_uses")),
    )
    with op.batch_alter_table("api_token_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_uses_token_id"), ["token_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_token_uses_used_at"), ["used_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_uses_used_at"))
        batch_op.drop_index(batch_op.f("ix_api_token_uses_token_id"))
    op.drop_table("api_token_uses")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
    op.drop_table("api_tokens")
