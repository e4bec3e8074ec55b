"""jurisdictions and fees: a subject's region and the law it selects (P41), where a request's profile came from,
the region and organisation declared with it (P6), and each erasure's backup purge date with when the officer was
told (P22); fees keep their state in the request's `fee` object (P18)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 11:00:00
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

import privet.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _backfill_backup_dates() -> None:
    """Erasures completed before this revision carry their backup date in `result` only: copy it to the column,
    so the daily backups job tells the officer about them too."""
    requests = sa.table(
        "dsr_requests",
        sa.column("id", sa.String(32)),
        sa.column("type", sa.String(20)),
        sa.column("status", sa.String(30)),
        sa.column("result", sa.JSON()),
        sa.column("backups_clear_by", sa.Date()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(requests.c.id, requests.c.result).where(
            requests.c.type.in_(("erasure", "closure")),
            requests.c.status.in_(("completed", "completed_with_exceptions")),
        )
    ).all()
    for request_id, result in rows:
        value = (result or {}).get("backups_clear_by") if isinstance(result, dict) else None
        try:
            day = date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            day = None
        if day is not None:
            conn.execute(requests.update().where(requests.c.id == request_id).values(backups_clear_by=day))


def upgrade() -> None:
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("jurisdiction", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("jurisdiction_source", sa.String(length=20), nullable=True))
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_source", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("declared_region", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("organisation_ref", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("backups_clear_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("backups_reminded_at", privet.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_dsr_requests_backups_clear_by"), ["backups_clear_by"], unique=False)
    _backfill_backup_dates()


def downgrade() -> None:
    # earlier code knows no fee_due status: such requests wait for an officer, as unpaid repeats did then
    op.execute("UPDATE dsr_requests SET status = 'pending_approval' WHERE status = 'fee_due'")
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_requests_backups_clear_by"))
        batch_op.drop_column("backups_reminded_at")
        batch_op.drop_column("backups_clear_by")
        batch_op.drop_column("organisation_ref")
        batch_op.drop_column("declared_region")
        batch_op.drop_column("profile_source")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_column("jurisdiction_source")
        batch_op.drop_column("jurisdiction")
        batch_op.drop_column("region")
