"""the audit chain keyed (head: where keying began and a keyed check); the audit events and the consent ledger
append-only in the database (triggers refuse UPDATE and DELETE)

Events written before this migration keep their plain hashes. When `privet db upgrade` (or `privet init`) runs it,
the installation's settings are at hand and the chain is sealed at once: one keyed `audit.chain_keyed` event links
to the last plain one. Upgraded without settings (from code), `privet audit seal` does that later; until then
Privet refuses to append to the unsealed chain rather than seal, on its own, whatever the table holds by then.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import context, op

from privet.db import append_only

if TYPE_CHECKING:
    from privet.settings import Settings

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GUARDED = ("audit_events", "consent_records")


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keyed_from", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for table in GUARDED:
        append_only.install(connection, table)
    settings = context.config.attributes.get("settings")
    if settings is not None:
        _seal(connection, settings)


def _seal(connection: sa.Connection, settings: "Settings") -> None:
    from sqlalchemy.orm import Session

    from privet.audit.service import seal
    from privet.db.engine import SETTINGS_INFO
    from privet.kit.errors import Unavailable

    session = Session(bind=connection, info={SETTINGS_INFO: settings})
    try:
        seal(session, actor="system:migration-0008")
        session.flush()
    except Unavailable:  # no secret key configured: nothing can be keyed yet; `privet audit seal` does it later
        pass
    finally:
        session.close()


def downgrade() -> None:
    connection = op.get_bind()
    for table in GUARDED:
        append_only.uninstall(connection, table)
    if connection.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS privet_refuse_change()")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("keyed_from")
