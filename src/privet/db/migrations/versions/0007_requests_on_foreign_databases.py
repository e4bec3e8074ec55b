"""requests on foreign databases: identity match, reference relation and parts in the data map; step intents;
a longer request status (completed_with_exceptions); the moment a subject's earlier sessions ended

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import privet.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datamap_fields", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relation", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("inferred", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("match", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("part", sa.String(length=80), nullable=True))
    with op.batch_alter_table("dsr_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intent_enc", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=20), type_=sa.String(length=30), existing_nullable=False
        )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sessions_valid_from", privet.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_column("sessions_valid_from")
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=30), type_=sa.String(length=20), existing_nullable=False
        )
    with op.batch_alter_table("dsr_steps", schema=None) as batch_op:
        batch_op.drop_column("intent_enc")
    with op.batch_alter_table("datamap_fields", schema=None) as batch_op:
        batch_op.drop_column("part")
        batch_op.drop_column("match")
        batch_op.drop_column("inferred")
        batch_op.drop_column("relation")
