"""Both demo companies loaded into a fresh SQLite store: the retention plan has rules with rows to sweep and legal
minimums, and the children sweep finds the minors their generated datastores hold (P27, P42), checked against
hand-written SQL over those datastores."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.demo.test_service import migrated


def _count(url: str, sql: str, **params: object) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text(sql), params).scalar_one()
    engine.dispose()
    return found


def _cutoff(years: int) -> str:
    today = utcnow().date()
    return (
        date(today.year - years, today.month, min(today.day, 28)).isoformat()
        if (today.month, today.day) == (2, 29)
        else today.replace(year=today.year - years).isoformat()
    )


def _load(settings: Settings, tmp_path: Path, company: str) -> tuple[sa.Engine, Settings, dict[str, str]]:
    from privet.datamap.secrets import known_secrets
    from privet.demo.service import demo_urls, load_demo

    conf = settings.model_copy(update={"data_dir": str(tmp_path / "data")})
    engine = migrated(f"sqlite:///{tmp_path / 'privet.db'}")
    load_demo(conf, engine, company, customers=400)
    assert known_secrets(conf)
    return engine, conf, demo_urls(conf, company)


@pytest.mark.promise("P27", "P23", "P25")
def test_keptek_demo_children_and_retention(settings: Settings, tmp_path: Path) -> None:
    from privet.retention import children, service

    engine, conf, urls = _load(settings, tmp_path, "keptek")
    crm = urls["crm"]
    customers = _count(crm, "SELECT COUNT(*) FROM customers")
    kids = _count(crm, "SELECT COUNT(*) FROM customers WHERE birth_date > :cut", cut=_cutoff(14))
    assert 0.01 * customers <= kids <= 0.06 * customers  # about 3% of the generated customers
    with Session(engine) as session:
        counts = children.sweep(session, Keyring.from_settings(conf), conf, actor="test", dry_run=True)
        planned = service.plan(session, conf, Keyring.from_settings(conf), tolerant=True)
    assert counts["found_in_datastores"] == kids
    assert counts["kept_guardian"] == (kids + 1) // 2 and counts["kept_guardian"] > 0  # guardians in Privet
    assert counts["filed"] + counts["within_grace"] == kids - counts["kept_guardian"] and counts["filed"] > 0
    # children use adults' accounts (main_account_id, related_account), but under PIPL the adults' stay (K6)
    assert (
        _count(
            crm,
            "SELECT COUNT(*) FROM customers k JOIN customers o ON o.id = k.main_account_id WHERE k.birth_date > :cut",
            cut=_cutoff(14),
        )
        > 0
    )
    assert counts["related_filed"] == 0
    assert any(p.get("would_sweep", 0) > 0 for p in planned)
    assert any(p.get("legal_minimum") for p in planned)


@pytest.mark.promise("P27", "P42")
def test_zkteco_demo_minors_and_related_accounts(settings: Settings, tmp_path: Path) -> None:
    from privet.retention import children, service

    engine, conf, urls = _load(settings, tmp_path, "zkteco")
    cut = _cutoff(18)
    accounts = _count(urls["accounts_cn"], "SELECT COUNT(*) FROM accounts") + _count(
        urls["accounts_eu"], "SELECT COUNT(*) FROM eu_accounts"
    )
    minors = _count(urls["accounts_cn"], "SELECT COUNT(*) FROM accounts WHERE birth_date > :cut", cut=cut) + _count(
        urls["accounts_eu"], "SELECT COUNT(*) FROM eu_accounts WHERE birth_date > :cut", cut=cut
    )
    assert 0.03 * accounts <= minors <= 0.1 * accounts  # about 6% of the generated customers
    related_sql = (
        "SELECT COUNT(DISTINCT o.id) FROM {t} k JOIN {t} o ON (o.id = k.family_of OR o.family_of = k.id) "
        "WHERE k.birth_date > :cut AND NOT o.birth_date > :cut"
    )
    related = _count(urls["accounts_cn"], related_sql.format(t="accounts"), cut=cut) + _count(
        urls["accounts_eu"], related_sql.format(t="eu_accounts"), cut=cut
    )
    with Session(engine) as session:
        counts = children.sweep(session, Keyring.from_settings(conf), conf, actor="test", dry_run=True)
        planned = service.plan(session, conf, Keyring.from_settings(conf), tolerant=True)
    assert counts["found_in_datastores"] == counts["filed"] == minors  # adults-only: every minor
    assert counts["related_filed"] == related > 0
    assert any(p.get("would_sweep", 0) > 0 for p in planned)
    assert any(p.get("legal_minimum") for p in planned)
