"""Cross-border transfers (P29): the mechanism thresholds, the year boundary, refusals, the consent filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput
from privet.registers import crossborder, crossborder_alerts
from privet.registers import crossborder_rules as rules
from privet.registers.crossborder_models import CrossBorderTransfer
from tests.reports.datamap import apply_datamap

CST = rules.CST


@pytest.mark.parametrize(
    ("people", "sensitive", "level"),
    [
        (0, 0, rules.EXEMPT),
        (1, 0, rules.EXEMPT),
        (99_999, 0, rules.EXEMPT),
        (100_000, 0, rules.STANDARD),
        (100_001, 0, rules.STANDARD),
        (999_999, 0, rules.STANDARD),
        (1_000_000, 0, rules.ASSESSMENT),
        (1, 1, rules.STANDARD),
        (99_999, 9_999, rules.STANDARD),
        (9_999, 9_999, rules.STANDARD),
        (10_000, 10_000, rules.ASSESSMENT),
        (99_999, 10_000, rules.ASSESSMENT),
    ],
)
def test_required_level_around_the_boundaries(people: int, sensitive: int, level: str) -> None:
    assert rules.required_level(people, sensitive) == level


def test_important_data_and_critical_operators_always_need_an_assessment() -> None:
    assert rules.required_level(1, 0, important_data=True) == rules.ASSESSMENT
    assert rules.required_level(1, 0, ciio=True) == rules.ASSESSMENT
    assert rules.weaker("standard_contract", rules.ASSESSMENT) and not rules.weaker("certification", rules.STANDARD)
    assert rules.weaker("exemption", rules.STANDARD) and not rules.weaker("security_assessment", rules.ASSESSMENT)


def test_the_year_starts_on_1_january_china_standard_time() -> None:
    start, end = rules.year_window(datetime(2026, 1, 1, 0, 0, tzinfo=CST))
    assert start == datetime(2026, 1, 1, tzinfo=CST) == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2027, 1, 1, tzinfo=CST)
    # 31 December 23:59:59 in Beijing is still the old year, although it is 15:59:59 UTC
    assert rules.year_window(datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC))[0].year == 2025
    assert rules.year_window(datetime(2025, 12, 31, 16, 0, 0, tzinfo=UTC))[0].year == 2026


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    apply_datamap(db, tmp_path / "dm")
    return db


def _transfer(db: Session, at: datetime, people: int, sensitive: int = 0, **kw) -> crossborder.TransferResult:
    categories = ["user.name", "user.biometric.face"] if sensitive else ["user.name"]
    return crossborder.record_transfer(
        db,
        actor="test",
        destination="DE",
        mechanism=kw.pop("mechanism", "standard_contract"),
        recipient="eu_desk_gmbh",
        categories=categories,
        subject_count=people,
        sensitive_subject_count=sensitive,
        at=at,
        **kw,
    )


def test_counts_cross_100000_exactly_at_the_boundary(mapped: Session) -> None:
    at = datetime(2026, 3, 1, tzinfo=CST)
    first = _transfer(mapped, at, 99_998)
    assert first.counts.people == 99_998 and first.counts.level == rules.EXEMPT and first.alerts == []
    second = _transfer(mapped, at, 1)
    assert second.counts.people == 99_999 and second.counts.level == rules.EXEMPT and second.alerts == []
    third = _transfer(mapped, at, 1, mechanism="exemption")
    assert third.counts.people == 100_000 and third.counts.level == rules.STANDARD
    assert third.counts.method == "summed"
    kinds = [a["kind"] for a in third.alerts]
    assert kinds == ["threshold_crossed", "mechanism_weaker"]
    assert "Art 5, 7, 8" in third.alerts[0]["message"]
    listed = crossborder_alerts.alerts(mapped, at=at)
    weaker = [a for a in listed if a["kind"] == "mechanism_weaker"]
    assert [a["transfer"] for a in weaker] == [third.transfer.reference]  # standard contracts suffice


def test_counts_cross_10000_sensitive_exactly_at_the_boundary(mapped: Session) -> None:
    at = datetime(2026, 5, 1, tzinfo=CST)
    result = _transfer(mapped, at, 9_999, 9_999)
    assert (result.counts.sensitive_people, result.counts.level) == (9_999, rules.STANDARD)
    result = _transfer(mapped, at, 1, 1, mechanism="security_assessment")
    assert (result.counts.sensitive_people, result.counts.level) == (10_000, rules.ASSESSMENT)
    assert [a["kind"] for a in result.alerts] == ["threshold_crossed"]
    weaker = [a for a in crossborder_alerts.alerts(mapped, at=at) if a["kind"] == "mechanism_weaker"]
    assert len(weaker) == 1 and weaker[0]["required"] == rules.ASSESSMENT  # the first, standard-contract one


def test_the_count_restarts_on_1_january(mapped: Session) -> None:
    last_second = datetime(2025, 12, 31, 23, 59, 59, tzinfo=CST)
    _transfer(mapped, last_second, 99_999)
    first_second = datetime(2026, 1, 1, 0, 0, 0, tzinfo=CST)
    new_year = _transfer(mapped, first_second, 1)
    assert new_year.counts.year == 2026 and new_year.counts.people == 1 and new_year.counts.level == rules.EXEMPT
    old = crossborder.year_counts(mapped, at=last_second)
    assert (old.year, old.people) == (2025, 99_999)
    _transfer(mapped, last_second - timedelta(days=1), 1)
    assert crossborder.year_counts(mapped, at=last_second).level == rules.STANDARD
    assert crossborder.year_counts(mapped, at=first_second).people == 1


def _count(db: Session) -> int:
    return db.execute(select(func.count()).select_from(CrossBorderTransfer)).scalar_one()


@pytest.mark.parametrize("mechanism", [None, "", "pinky_promise"])
def test_a_transfer_without_a_mechanism_is_refused_and_nothing_recorded(mapped: Session, mechanism) -> None:
    before = _count(mapped)
    with pytest.raises(InvalidInput) as err:
        _transfer(mapped, datetime(2026, 3, 1, tzinfo=CST), 10, mechanism=mechanism)
    assert "mechanism" in err.value.detail and "nothing was recorded" in err.value.detail
    assert "standard_contract" in err.value.hint
    assert _count(mapped) == before


def test_other_bad_input_is_refused(mapped: Session) -> None:
    at = datetime(2026, 3, 1, tzinfo=CST)
    for kw, word in (
        ({"destination": "CN"}, "not a cross-border"),
        ({"categories": ["user.nope"]}, "category"),
        ({"subject_count": 0}, "number of people"),
        ({"sensitive_subject_count": 3}, "sensitive"),
    ):
        args = {
            "actor": "t",
            "destination": "DE",
            "mechanism": "certification",
            "recipient": "x",
            "categories": ["user.name"],
            "subject_count": 2,
            "at": at,
            **kw,
        }
        with pytest.raises(InvalidInput, match=word):
            crossborder.record_transfer(mapped, **args)
    assert _count(mapped) == 0


def _subjects(db: Session, n: int) -> list[str]:
    from privet.subjects.models import Subject

    rows = [Subject(subject_type="customer") for _ in range(n)]
    db.add_all(rows)
    db.flush()
    return [r.id for r in rows]


def test_subjects_without_separate_cross_border_consent_are_filtered_out(mapped: Session) -> None:
    from privet.consent.ledger import service as ledger

    ids = _subjects(mapped, 5)
    for sid in ids[:3]:
        rec = ledger.grant(mapped, subject_id=sid, purpose="service.support", method="staff", actor="test")
        assert rec.separate_kind == "cross_border"  # PIPL Art 39: the transfer's own separate consent
    result = crossborder.record_transfer(
        mapped,
        actor="test",
        destination="DE",
        mechanism="standard_contract",
        recipient="eu_desk_gmbh",
        categories=["user.contact.email"],
        subject_ids=ids,
        activity="global_support",
    )
    assert result.transfer.subject_count == 3 and result.filtered_out == {"NO_CONSENT": 2}
    assert {s.subject_id for s in result.transfer.subjects} == set(ids[:3])
    again = crossborder.record_transfer(
        mapped,
        actor="test",
        destination="DE",
        mechanism="standard_contract",
        recipient="eu_desk_gmbh",
        categories=["user.contact.email"],
        subject_ids=ids[:2],
        activity="global_support",
    )
    counts = again.counts
    assert (counts.people, counts.method) == (3, "distinct")  # the same people are not counted twice
    check = crossborder.check_consent(mapped, ids, purpose="service.support", destination="DE")
    assert check.allowed == ids[:3] and check.refused == {"NO_CONSENT": 2}


def test_a_contract_purpose_still_needs_the_cross_border_consent(mapped: Session) -> None:
    ids = _subjects(mapped, 2)
    with pytest.raises(InvalidInput, match="No subject may be transferred") as err:
        crossborder.record_transfer(
            mapped,
            actor="test",
            destination="DE",
            mechanism="standard_contract",
            recipient="eu_desk_gmbh",
            categories=["user.name"],
            subject_ids=ids,
            activity="orders",
        )
    assert "CROSS_BORDER_CONSENT_REQUIRED 2" in err.value.hint
    assert _count(mapped) == 0


def test_the_data_map_alerts(mapped: Session) -> None:
    kinds = {(a["kind"], a.get("datastore")) for a in crossborder_alerts.datamap_alerts(mapped)}
    assert kinds == set()  # eu_desk (DE) holds support_eu, and global_support declares the transfer to DE


def test_registered_processors_abroad_without_a_declared_transfer_raise_an_alert(mapped: Session) -> None:
    from privet.registers.models import Processor

    mapped.add(Processor(key="mail_vendor", name="Mailer Inc", regions=["CN", "US"], created_by="test"))
    mapped.flush()
    found = [a for a in crossborder_alerts.datamap_alerts(mapped) if a["kind"] == "processor_outside_region"]
    assert [(a["processor"], a["activity"]) for a in found] == [("mail_vendor", "newsletter")]
    assert "US" in found[0]["message"]


def test_both_consent_check_paths_agree(mapped: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from privet.consent.ledger import service as ledger

    ids = _subjects(mapped, 4)
    ledger.grant(mapped, subject_id=ids[1], purpose="service.support", method="staff", actor="test")
    few = crossborder.check_consent(mapped, ids, purpose="service.support", destination="DE")
    monkeypatch.setattr(crossborder, "FEW_SUBJECTS", 1)
    many = crossborder.check_consent(mapped, ids, purpose="service.support", destination="DE")
    assert few == many and few.allowed == [ids[1]] and few.refused == {"NO_CONSENT": 3}


def test_a_datastore_abroad_without_a_declared_transfer_raises_an_alert(db: Session, tmp_path: Path) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.reports.datamap import write_datamap

    path = write_datamap(tmp_path / "dm")
    text = path.read_text().replace(
        "      - {destination: DE, mechanism: standard_contract, recipient: eu_desk_gmbh}",
        "      - {destination: SG, recipient: sg_partner}",
    )
    path.write_text(text)
    validate_and_apply(db, path, actor="test")
    kinds = sorted(a["kind"] for a in crossborder_alerts.datamap_alerts(db))
    assert kinds == ["datamap_transfer_without_mechanism", "datastore_outside_region"]


# --- people stored abroad, from the data map ------------------------------------------------------------------
ABROAD_MAP = """\
organisation: {{key: co, name: Test Co, profile: pipl, region: CN, responsible: {{name: Privacy Office}}}}
systems: [{{key: app, name: App}}]
datastores:
  - {{key: eu_db, system: app, kind: {kind}, region: EU, secret: eu_db}}
  - {{key: cn_db, system: app, kind: {kind}, region: CN, secret: cn_db}}
  - {{key: us_desk, system: app, kind: manual, region: US}}
datasets:
  - key: eu
    datastore: eu_db
    tables:
      - name: accounts
        primary_key: [id]
        fields:
          - {{name: id}}
          - {{name: uid, category: user.account.user_id, identity: user_id}}
          - {{name: email, category: user.contact.email, identity: email}}
      - name: events
        primary_key: [id]
        fields:
          - {{name: id}}
          - {{name: uid, category: user.account.user_id, identity: user_id}}
  - key: cn
    datastore: cn_db
    tables:
      - name: accounts
        primary_key: [id]
        fields:
          - {{name: id}}
          - {{name: email, category: user.contact.email, identity: email}}
"""


def _fill_abroad(url: str) -> None:
    import sqlalchemy as sa
    from faker import Faker

    fake, zh = Faker(), Faker("zh_CN")
    md = sa.MetaData()
    accounts = sa.Table(
        "accounts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(20)),
        sa.Column("email", sa.String(120)),
    )
    events = sa.Table("events", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("uid", sa.String(20)))
    engine = sa.create_engine(url)
    md.create_all(engine)
    with engine.begin() as conn:
        for i in range(1, 41):  # some without an e-mail, some without a uid; events of account holders and others
            email = None if i % 4 == 0 else f"{zh.romanized_name().replace(' ', '.')}{i}@example.com"
            conn.execute(accounts.insert().values(id=i, uid=None if i % 9 == 0 else f"u{i}", email=email))
        for j in range(1, 61):
            conn.execute(events.insert().values(id=j, uid=f"u{fake.random_int(1, 55)}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def abroad_url(request: pytest.FixtureRequest, tmp_path: Path):
    from tests.support.services import create_mysql_database, create_pg_database

    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'eu.sqlite'}", (lambda: None)
    else:
        url, drop = create_pg_database() if request.param == "postgresql" else create_mysql_database()
    _fill_abroad(url)
    yield url
    drop()


@pytest.mark.promise("P29")
def test_people_stored_abroad_feed_the_thresholds_with_transfers_on_top(
    db: Session, settings, tmp_path: Path, abroad_url: str
) -> None:
    import sqlalchemy as sa

    from privet.datamap.service import validate_and_apply
    from privet.jobs.dispatch import SETTINGS_KEY

    cn_url = f"sqlite:///{tmp_path / 'cn.sqlite'}"
    _fill_abroad(cn_url)  # at home: never counted
    kind = sa.engine.make_url(abroad_url).get_backend_name().replace("mariadb", "mysql")
    path = tmp_path / "map" / "map.yaml"
    path.parent.mkdir()
    path.write_text(ABROAD_MAP.format(kind=kind), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.info[SETTINGS_KEY] = settings.model_copy(update={"secrets": {"eu_db": abroad_url, "cn_db": cn_url}})
    engine = sa.create_engine(abroad_url)
    with engine.connect() as conn:  # per identity type, distinct values across the tables; the larger count
        uids = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM (SELECT uid FROM accounts WHERE uid IS NOT NULL "
                "UNION SELECT uid FROM events WHERE uid IS NOT NULL) u"
            )
        ).scalar_one()
        emails = conn.execute(sa.text("SELECT COUNT(DISTINCT email) FROM accounts")).scalar_one()
    engine.dispose()
    counts = crossborder.year_counts(db, at=datetime(2026, 3, 1, tzinfo=CST))
    stored = {s.datastore: s for s in counts.stored_abroad}
    assert set(stored) == {"eu_db", "us_desk"}
    assert stored["eu_db"].people == max(uids, emails) > 40 and stored["eu_db"].problem is None
    assert stored["us_desk"].people == 0 and "manual" in stored["us_desk"].problem
    assert counts.people == max(uids, emails)
    result = _transfer(db, datetime(2026, 3, 1, tzinfo=CST), 7)  # a transfer recorded by hand adds its people
    assert result.counts.people == max(uids, emails) + 7
