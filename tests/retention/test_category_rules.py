"""Rules per data category and purpose (the organisation's), and several rules on one table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from privet.retention import service
from tests.retention.conftest import DATAMAP, LOGINS, NOW, ORDERS, Company

RULES = """\
organisation: {{key: co, name: Test Co, profile: pipl, region: CN, responsible: {{name: Privacy Office}},
  retention: [
    {{category: user.device, purpose: analytics, trigger: collection, duration: P30D, action: "null"}},
    {{category: user.contact.address, trigger: collection, duration: P1Y, action: anonymise}},
    {{category: user.contact.email, purpose: marketing, trigger: collection, duration: P1D, action: "null"}}]}}
processing_activities:
  - {{key: stats, name: Usage statistics, purpose: analytics.usage, legal_basis: consent, datasets: [app],
      required_categories: [user.device.ip_address]}}
"""


def _map(tmp_path: Path, kind: str) -> Path:
    text = DATAMAP.format(kind=kind).split("\n", 1)[1]  # the tables, without the plain organisation line
    text = text.replace(
        """      - name: login_events
        primary_key: [id]
        retention: {trigger: collection, column: at, duration: P90D, action: delete}""",
        """      - name: login_events
        primary_key: [id]
        timestamps: {collection: at}
        retention:
          - {trigger: collection, column: at, duration: P90D, action: delete}
          - {trigger: collection, column: at, duration: P60D, action: "null", fields: [email]}""",
    )
    path = tmp_path / "rules" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RULES.format() + text, encoding="utf-8")
    return path


@pytest.fixture
def ruled(db: Session, company: Company, tmp_path: Path) -> Session:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, _map(tmp_path, company.kind), actor="test")
    db.commit()
    return db


@pytest.mark.parametrize("company", ["sqlite", "postgresql"], indirect=True)
def test_category_rules_apply_where_the_purpose_uses_the_category(
    ruled: Session, session_factory: sessionmaker, conf, keyring, company: Company
) -> None:
    plan = {e["rule"]: e for e in service.plan(ruled, conf, keyring, now=NOW)}
    ip = plan["app_db.login_events:user.device"]
    assert ip["fields"] == ["ip"] and ip["action"] == "null" and ip["would_sweep"] == 40  # 100- and 400-day-old
    assert plan["app_db.login_events#1"]["action"] == "delete" and plan["app_db.login_events#2"]["fields"] == ["email"]
    assert "app_db.login_events:user.contact.email" not in plan  # no marketing activity uses the dataset
    address = plan["app_db.orders:user.contact.address"]  # orders declare no timestamps: said, not guessed
    assert address["problem"] and "timestamps.collection" in address["problem"] and address["would_sweep"] == 0
    done = service.run(session_factory, conf, keyring, actor="test", now=NOW)
    assert done.status == "done", done.error
    assert done.progress["app_db.orders:user.contact.address"]["skipped"]
    cutoff = NOW.replace(tzinfo=None)
    assert company.count(LOGINS) == 20  # the table's own delete rule
    assert company.count(LOGINS, LOGINS.c.ip.is_(None)) == 0  # the rows whose ip expired were deleted anyway
    assert company.count(ORDERS, ORDERS.c.ship_to.is_(None)) == 20  # the orders rule of the table still ran
    assert company.count(LOGINS, LOGINS.c.at < cutoff - timedelta(days=30)) == 0


def test_a_category_rule_cannot_delete_rows() -> None:
    from pydantic import ValidationError

    from privet.datamap.schemas import CategoryRetention

    with pytest.raises(ValidationError, match="use action null or anonymise"):
        CategoryRetention(category="user.contact", trigger="collection", duration="P1Y", action="delete")
    with pytest.raises(ValidationError, match="legal_reference"):
        CategoryRetention(category="user.contact", trigger="collection", duration="P1Y", legal_minimum="P5Y")
