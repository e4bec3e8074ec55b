"""The demo CRMs' marketing opt-ins, loaded as consent records (method `import`) when a demo is loaded.

Each company's customer tables carry a `marketing_opt_in` flag; the CRM records the opt-in with the account, so
its time is the account's creation. Open accounts that opted in become `given` records for
`marketing.communications` through the consent importer (the path `privet consent import` takes), so the dashboard,
the privacy centre and decisions start from the state the company's own systems hold. Closed accounts are left
out: their closure ended every consent (P45). Loading the demo again imports nothing twice.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, column, create_engine, select
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from privet.settings import Settings

PURPOSE = "marketing.communications"
ACTOR = "demo:crm-opt-ins"  # apart from other demo records (the registers history records consent too)


@dataclass(frozen=True)
class OptIns:
    """Where one datastore keeps opt-ins: the table, the identity column and its type, the moment, the language."""

    datastore: str
    table: str
    identity_column: str
    identity_type: str
    at_column: str
    language_column: str | None = None
    language: str | None = None  # when the table has no language column


SOURCES = {
    "keptek": [OptIns("crm", "customers", "mobile", "phone", "created_at", language="zh_CN")],
    "zkteco": [
        OptIns("accounts_cn", "accounts", "email", "email", "registered_at", "language"),
        OptIns("accounts_eu", "eu_accounts", "email", "email", "registered_at", "language"),
    ],
}


def _language(value: str | None) -> str | None:
    """The ledger's languages (en, zh_CN); others (de, fr) are not recorded."""
    return value if value in ("en", "zh_CN") else None


def _moment(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def opt_in_rows(source: OptIns, url: str) -> list[dict]:
    """The import rows of one datastore's opted-in open accounts."""
    engine = create_engine(url)
    try:
        types: dict[str, TypeEngine[Any]] = {
            "marketing_opt_in": Boolean(),
            "closed_at": DateTime(),
            source.at_column: DateTime(),
        }
        names = [
            "id",
            "marketing_opt_in",
            "closed_at",
            source.identity_column,
            source.at_column,
            *([source.language_column] if source.language_column else []),
        ]
        table = sql_table(source.table, *(column(n, types.get(n)) for n in names))  # the columns are known
        columns = [table.c[source.identity_column], table.c[source.at_column]]
        if source.language_column:
            columns.append(table.c[source.language_column])
        opted_in = table.c.marketing_opt_in.is_(True)
        query = (
            select(*columns)
            .where(opted_in, table.c.closed_at.is_(None), table.c[source.identity_column].is_not(None))
            .order_by(table.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    return [
        {
            "identity_type": source.identity_type,
            "identity": row[0],
            "purpose": PURPOSE,
            "event": "given",
            "at": _moment(row[1]),
            "notice_key": None,
            "language": _language(row[2] if source.language_column else source.language),
        }
        for row in rows
    ]


def import_opt_ins(session: Session, settings: Settings, company_key: str, urls: dict[str, str]) -> int:
    """Import the company's CRM opt-ins as consent records once; returns how many were imported now."""
    from privet.consent.ledger.importer import import_records
    from privet.consent.models import ConsentRecord
    from privet.kit.crypto import Keyring

    sources = [s for s in SOURCES.get(company_key, []) if s.datastore in urls]
    done = session.execute(
        select(ConsentRecord.seq).where(ConsentRecord.method == "import", ConsentRecord.actor == ACTOR).limit(1)
    ).first()
    if not sources or done is not None:
        return 0
    rows = [row for source in sources for row in opt_in_rows(source, urls[source.datastore])]
    if not rows:
        return 0
    with tempfile.TemporaryDirectory() as folder:  # the importer reads files; the rows never reach a log
        path = Path(folder) / "opt_ins.jsonl"
        path.write_text(
            "".join(
                json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False) + "\n" for row in rows
            ),
            encoding="utf-8",
        )
        report = import_records(
            session, Keyring.from_settings(settings), path, fmt="jsonl", method="import", actor=ACTOR
        )
    return report.imported
