"""console pages: the ledger's newest record by method or separate-consent kind found through an index

The evidence page shows each promise's newest consent record of a method (banner, gpc, guardian) or of a kind of
separate consent (cross_border). Read newest first without an index, a rare or absent method scanned the whole
ledger on every load. `(method, seq)` answers it from the index's end; the separate-consent index is partial (only
separate-consent records maintain it), as the holder indexes of 0006 are.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 16:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_consent_records_method", "consent_records", ["method", "seq"], unique=False)
    where = sa.text("separate_kind IS NOT NULL")
    op.create_index(
        "ix_consent_records_separate_kind",
        "consent_records",
        ["separate_kind", "seq"],
        unique=False,
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_records_separate_kind", table_name="consent_records")
    op.drop_index("ix_consent_records_method", table_name="consent_records")
