"""consent campaigns: a material change's re-consent campaign and its messages, one per person (P30)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import privet.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_campaigns",
        sa.Column("notice_key", sa.String(length=80), nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("moment", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_campaigns")),
        sa.UniqueConstraint("notice_key", "notice_version", name="uq_consent_campaigns_notice_version"),
    )
    op.create_table(
        "consent_campaign_messages",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", privet.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", privet.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["consent_campaigns.id"],
            name=op.f("fk_consent_campaign_messages_campaign_id_consent_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_consent_campaign_messages_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_campaign_messages")),
        sa.UniqueConstraint("campaign_id", "subject_id", name="uq_consent_campaign_messages_subject"),
    )
    with op.batch_alter_table("consent_campaign_messages", schema=None) as batch_op:
        batch_op.create_index("ix_consent_campaign_messages_status", ["campaign_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_campaign_messages_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consent_campaign_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_campaign_messages_subject_id"))
        batch_op.drop_index("ix_consent_campaign_messages_status")
    op.drop_table("consent_campaign_messages")
    op.drop_table("consent_campaigns")
