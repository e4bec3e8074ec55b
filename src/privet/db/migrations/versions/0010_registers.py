"""registers: recipients' agreements (P38), the grounds the company's policy declares (P39), the organisation's
contacts per region (P41)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import privet.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("register_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreement_ref", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("signed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("expires_on", sa.Date(), nullable=True))

    op.create_table(
        "register_policy",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_policy")),
    )

    with op.batch_alter_table("datamap_organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contacts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("datamap_organisation", schema=None) as batch_op:
        batch_op.drop_column("contacts")

    op.drop_table("register_policy")

    with op.batch_alter_table("register_recipients", schema=None) as batch_op:
        batch_op.drop_column("expires_on")
        batch_op.drop_column("signed_on")
        batch_op.drop_column("agreement_ref")
