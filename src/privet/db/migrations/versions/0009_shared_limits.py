"""shared limits: one table every process counts in (rate limits, login lockouts, code-cap locks, the API-key
revocation generation), so several `privet serve` processes enforce one policy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import privet.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_state",
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("until", privet.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", privet.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", "slot", name=op.f("pk_limit_state")),
    )
    with op.batch_alter_table("limit_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_limit_state_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("limit_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_limit_state_expires_at"))
    op.drop_table("limit_state")
