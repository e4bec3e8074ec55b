"""P41: a subject's jurisdiction selects deadlines, extension rules, refusal grounds and complaint routes within one
company. End to end on the ZKTeco demo (accounts_cn in the PRC, accounts_eu in the EU, profile PIPL): the region
comes from the datastore the person's identity is found in, from their declaration at filing, or from a trusted
token's claim; unreadable or unreachable inputs fall back to the organisation's profile and say why."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, Unauthorized
from privet.requests.law import deadlines
from privet.requests.models import DsrRequest
from privet.requests.workflow import service as workflow
from privet.settings import Settings
from privet.subjects.jurisdiction import jurisdiction_of, normalise_region
from privet.subjects.models import Subject

ZKTECO = Path(__file__).resolve().parents[2] / "examples" / "zkteco" / "datamap"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Beijing
TOKEN_SECRET = "shared-secret-of-the-zkteco-login-0123456789"

pytestmark = pytest.mark.promise("P41")


@pytest.fixture(scope="module")
def zkteco_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ZKTeco's five datastores as SQLite files with 24 generated customers (about a third in the EU)."""
    from privet.demo.generator import company, fill

    folder = tmp_path_factory.mktemp("zkteco")
    files = {key: folder / f"{key}.sqlite" for key in company("zkteco").datastores()}
    fill("zkteco", {key: f"sqlite:///{path}" for key, path in files.items()}, customers=24, seed=11)
    return files


@pytest.fixture
def zkteco_urls(zkteco_files: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    """A fresh copy of the generated datastores for each test (erasures change them)."""
    import shutil

    urls = {}
    for key, path in zkteco_files.items():
        shutil.copyfile(path, tmp_path / path.name)
        urls[key] = f"sqlite:///{tmp_path / path.name}"
    return urls


@pytest.fixture
def zk(db: Session, conf: Settings, zkteco_urls: dict[str, str]) -> tuple[Session, Settings]:
    from privet.datamap.service import validate_and_apply
    from privet.demo.generator import company
    from privet.jobs import dispatch

    settings = conf.model_copy(
        update={
            "secrets": {company("zkteco").secret(k): u for k, u in zkteco_urls.items()},
            "subject_token_secret": TOKEN_SECRET,
        }
    )
    db.info[dispatch.SETTINGS_KEY] = settings
    validate_and_apply(db, ZKTECO, actor="test")
    db.flush()
    return db, settings


def _email(url: str, table: str, skip: int = 0) -> str:
    """The `skip`th address still there (the module's databases are shared: an erasure in one test anonymises)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(sa.text(f"SELECT email FROM {table} WHERE email LIKE '%@%.%' ORDER BY id"))
                .scalars()
                .all()[skip]
            )
    finally:
        engine.dispose()


def _file(zk: tuple[Session, Settings], keyring: Keyring, request_type: str, email: str, **kwargs: object):
    from privet.requests.intake.service import file_request

    session, settings = zk
    return file_request(
        session,
        keyring,
        settings,
        request_type=request_type,
        identity_type="email",
        identity=email,
        filed_by="public:api",
        **kwargs,
    )


def _check(zk: tuple[Session, Settings], keyring: Keyring, request):
    from privet.requests.intake.verify import record_identity_check

    session, settings = zk
    return record_identity_check(
        session, keyring, settings, request, method="id_document", note=None, actor="user:officer"
    )


def test_regions_select_the_laws() -> None:
    assert [jurisdiction_of(r) for r in ("CN", "CN-GD", "DE", "EU", "EEA", "NO", "US-CA", "US", "SG", "HK", None)] == [
        "pipl",
        "pipl",
        "gdpr",
        "gdpr",
        "gdpr",
        "gdpr",
        "ccpa",
        None,
        None,
        None,
        None,
    ]
    assert normalise_region(" us_ca ") == "US-CA" and normalise_region("") is None
    for bad in ("Germany", "D", "GLOBAL", "12"):
        with pytest.raises(InvalidInput):
            normalise_region(bad)


def test_an_eu_subject_gets_the_gdpr_month_and_a_prc_subject_15_working_days(
    zk, keyring: Keyring, zkteco_urls: dict[str, str], drain, smtp
) -> None:
    session, settings = zk
    eu_mail, cn_mail = _email(zkteco_urls["accounts_eu"], "eu_accounts"), _email(zkteco_urls["accounts_cn"], "accounts")
    with frozen_at(T0):
        eu, cn = _file(zk, keyring, "erasure", eu_mail), _file(zk, keyring, "erasure", cn_mail)
        assert eu.profile == cn.profile == "pipl"  # nothing known at filing: the organisation's profile
        _check(zk, keyring, eu)
        _check(zk, keyring, cn)
    assert (eu.profile, eu.profile_source) == ("gdpr", "datastore")
    assert eu.due_on == date(2026, 4, 2) == deadlines.add_months(date(2026, 3, 2), 1)
    assert (cn.profile, cn.profile_source) == ("pipl", "datastore")
    assert cn.due_on == deadlines.add_working_days(date(2026, 3, 2), 15, profile="pipl") == date(2026, 3, 23)
    eu_subject, cn_subject = session.get(Subject, eu.subject_id), session.get(Subject, cn.subject_id)
    assert (eu_subject.region, eu_subject.jurisdiction, eu_subject.jurisdiction_source) == ("EU", "gdpr", "datastore")
    assert (cn_subject.region, cn_subject.jurisdiction) == ("CN", "pipl")
    trail = {
        e.object_id: e.details
        for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "request.verified"))
    }
    assert trail[eu.id]["profile"] == "gdpr" and trail[eu.id]["found_in"] == ["accounts_eu"]
    jurisdiction_events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subject.jurisdiction", AuditEvent.object_id == eu_subject.id)
    ).all()
    assert [e.details["datastore"] for e in jurisdiction_events] == ["accounts_eu"]

    # the extension rules follow the person's law: the GDPR's two further months, none under PIPL
    workflow.extend(session, eu, reason="several regional systems hold records", actor="user:officer")
    assert eu.extended_to == date(2026, 6, 2)
    with pytest.raises(InvalidInput, match="PIPL"):
        workflow.extend(session, cn, reason="several regional systems hold records", actor="user:officer")
    drain(settings)
    session.refresh(eu)
    assert eu.status in ("completed", "completed_with_exceptions")
    assert eu.result["tables"]["accounts_eu"]  # it ran where the person's account is
    # the person is told which law and why, and the office answering for their region
    [done] = [m for to, m in smtp.messages if eu_mail in to and "carried out" in m.get_content()]
    body = done.get_content()
    assert "handled under the EU General Data Protection Regulation (GDPR)" in body
    assert "kept in our systems for the European Union" in body and "dpo-eu@zkteco.example" in body
    [extended] = [m for to, m in smtp.messages if eu_mail in to and "More time" in m["Subject"]]
    assert "(GDPR)" in extended.get_content()


def test_refusal_grounds_and_complaint_routes_follow_the_subject(
    zk, keyring: Keyring, zkteco_urls, drain, smtp
) -> None:
    session, _settings = zk
    eu_mail = _email(zkteco_urls["accounts_eu"], "eu_accounts", skip=1)
    cn_mail = _email(zkteco_urls["accounts_cn"], "accounts", skip=1)
    eu, cn = _file(zk, keyring, "access", eu_mail), _file(zk, keyring, "access", cn_mail)
    _check(zk, keyring, eu)
    _check(zk, keyring, cn)
    assert (eu.profile, cn.profile) == ("gdpr", "pipl")
    # a GDPR ground is open to the EU request only; the PRC request is refused on a GB/T 35273-2020 one
    workflow.refuse(session, eu, code="manifestly_unfounded", note=None, actor="user:officer")
    with pytest.raises(InvalidInput, match="not a ground under the pipl profile"):
        workflow.refuse(session, cn, code="manifestly_unfounded", note=None, actor="user:officer")
    workflow.refuse(session, cn, code="trade_secret", note=None, actor="user:officer")
    drain(_settings)
    [to_eu] = [m.get_content() for to, m in smtp.messages if eu_mail in to and "cannot carry out" in m["Subject"]]
    [to_cn] = [m.get_content() for to, m in smtp.messages if cn_mail in to and "cannot carry out" in m["Subject"]]
    assert "supervisory authority" in to_eu and "GDPR Art 12(5)" in to_eu and "Article 50" not in to_eu
    assert "Article 50 of the Personal Information Protection Law" in to_cn and "supervisory" not in to_cn


def test_a_declared_region_selects_the_law_without_a_lookup(zk, keyring: Keyring, zkteco_urls) -> None:
    session, _settings = zk
    cn_mail = _email(zkteco_urls["accounts_cn"], "accounts", skip=2)
    with frozen_at(T0):
        request = _file(zk, keyring, "erasure", cn_mail, region="de")
        assert (request.profile, request.profile_source, request.declared_region) == ("gdpr", "declared", "DE")
        _check(zk, keyring, request)
    assert (request.profile, request.profile_source) == ("gdpr", "declared")
    assert request.due_on == date(2026, 4, 2)
    subject = session.get(Subject, request.subject_id)
    assert (subject.region, subject.jurisdiction, subject.jurisdiction_source) == ("DE", "gdpr", "declared")
    verified = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request.verified", AuditEvent.object_id == request.id)
    ).one()
    assert "found_in" not in verified.details  # the declaration answered: no datastore was asked

    # a region none of the three laws covers: the organisation's profile, the region kept
    other = _file(zk, keyring, "access", _email(zkteco_urls["accounts_eu"], "eu_accounts", skip=2), region="SG")
    assert (other.profile, other.profile_source) == ("pipl", "organisation")
    _check(zk, keyring, other)
    assert (other.profile, other.profile_source) == ("pipl", "organisation")
    assert session.get(Subject, other.subject_id).region == "SG"


def test_a_bad_region_or_organisation_is_refused_and_nothing_is_stored(zk, keyring: Keyring) -> None:
    session, _settings = zk
    before = session.scalar(select(sa.func.count()).select_from(DsrRequest))
    with pytest.raises(InvalidInput) as caught:
        _file(
            zk,
            keyring,
            "access",
            "someone@zkteco.example",
            region="Europe",
            organisation="call me on +86 138 0013 8000",
        )
    assert {p.where for p in caught.value.problems} == {"region", "organisation"}
    assert session.scalar(select(sa.func.count()).select_from(DsrRequest)) == before


def test_an_unreachable_datastore_leaves_the_organisation_profile(zk, keyring: Keyring, zkteco_urls) -> None:
    from privet.demo.generator import company

    session, settings = zk
    broken = settings.model_copy(
        update={"secrets": {company("zkteco").secret(k): u for k, u in zkteco_urls.items() if k != "accounts_cn"}}
    )
    request = _file(zk, keyring, "access", _email(zkteco_urls["accounts_eu"], "eu_accounts", skip=3))
    from privet.requests.intake.verify import record_identity_check

    record_identity_check(session, keyring, broken, request, method="id_document", note=None, actor="user:o")
    assert (request.profile, request.profile_source) == ("pipl", "organisation")
    verified = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request.verified", AuditEvent.object_id == request.id)
    ).one()
    assert verified.details["datastores_unreachable"] == ["accounts_cn"]
    assert verified.details["found_in"] == ["accounts_eu"]
    assert session.get(Subject, request.subject_id).region is None  # not recorded on a partial answer


def test_someone_in_no_datastore_gets_the_organisation_profile(zk, keyring: Keyring) -> None:
    session, _settings = zk
    request = _file(zk, keyring, "access", "nobody-here@zkteco.example")
    _check(zk, keyring, request)
    assert (request.profile, request.profile_source) == ("pipl", "organisation")
    assert session.get(Subject, request.subject_id).region is None


def _token(**claims: object) -> str:
    import secrets

    now = int(T0.timestamp())
    body = {"aud": "privet", "iat": now, "exp": now + 300, "jti": secrets.token_hex(8), **claims}
    return jwt.encode(body, TOKEN_SECRET, algorithm="HS256")


def test_a_token_claim_sets_the_law_and_a_declaration_does_not_override_it(zk, keyring: Keyring, zkteco_urls) -> None:
    from privet.requests.intake.verify import verify_with_subject
    from privet.subjects.tokens import verify_subject_token

    session, settings = zk
    email = _email(zkteco_urls["accounts_cn"], "accounts", skip=3)
    with frozen_at(T0):
        proven = verify_subject_token(
            session,
            settings,
            _token(identity_type="email", identity=email, region="US-CA", organisation="Acme Security Ltd"),
            keyring=keyring,
        )
        subject = session.get(Subject, proven.subject_id)
        assert (subject.region, subject.jurisdiction, subject.jurisdiction_source) == ("US-CA", "ccpa", "token")
        assert subject.organisation_ref == "Acme Security Ltd"
        request = _file(zk, keyring, "access", email, region="DE")
        verify_with_subject(session, keyring, settings, request, subject_id=subject.id, method="token")
    assert (request.profile, request.profile_source) == ("ccpa", "token")
    # 45 days from receipt, counted in California: 02:00 UTC on 2 March is still 1 March there
    assert request.due_on == date(2026, 4, 15)
    assert request.acknowledge_by == deadlines.add_working_days(date(2026, 3, 1), 10, profile="ccpa")
    assert subject.region == "US-CA"  # the declaration did not replace the company's own claim
    with frozen_at(T0), pytest.raises(Unauthorized, match="region"):
        verify_subject_token(
            session, settings, _token(identity_type="email", identity=email, region="California"), keyring=keyring
        )
    with frozen_at(T0), pytest.raises(Unauthorized, match="organisation"):
        verify_subject_token(
            session, settings, _token(identity_type="email", identity=email, organisation=7), keyring=keyring
        )


def test_people_are_located_ahead_of_any_request(zk, keyring: Keyring, zkteco_urls: dict[str, str]) -> None:
    from privet.demo.generator import company
    from privet.requests.intake.jurisdiction import locate_unknown, people_by_law
    from privet.subjects.jurisdiction import record_region
    from privet.subjects.service import get_or_create_subject

    session, settings = zk
    eu_mail, cn_mail = _email(zkteco_urls["accounts_eu"], "eu_accounts"), _email(zkteco_urls["accounts_cn"], "accounts")
    eu, _ = get_or_create_subject(session, keyring, "email", eu_mail, actor="test")
    cn, _ = get_or_create_subject(session, keyring, "email", cn_mail, actor="test")
    nobody, _ = get_or_create_subject(session, keyring, "email", "not-a-customer@zkteco.example", actor="test")
    californian, _ = get_or_create_subject(session, keyring, "email", "ca-person@zkteco.example", actor="test")
    record_region(session, californian, "US-CA", source="declared", actor="test")

    # a datastore that cannot be asked: nobody is recorded from a partial answer, all are tried again later
    broken = settings.model_copy(
        update={"secrets": {company("zkteco").secret(k): u for k, u in zkteco_urls.items() if k != "accounts_eu"}}
    )
    assert locate_unknown(session, keyring, broken, actor="test") == {
        "located": 0,
        "several": 0,
        "nowhere": 0,
        "unreachable": 3,
    }
    assert eu.region is None and cn.region is None

    assert locate_unknown(session, keyring, settings, actor="test") == {
        "located": 2,
        "several": 0,
        "nowhere": 1,
        "unreachable": 0,
    }
    assert (eu.region, eu.jurisdiction, eu.jurisdiction_source) == ("EU", "gdpr", "datastore")
    assert (cn.region, cn.jurisdiction) == ("CN", "pipl") and nobody.region is None
    assert californian.jurisdiction == "ccpa"  # a declaration is never replaced by a lookup
    laws = {(law, source, region): n for law, source, region, n in people_by_law(session)}
    assert laws[("gdpr", "datastore", "EU")] >= 1 and laws[("ccpa", "declared", "US-CA")] >= 1
    # a located person's request needs no lookup at verification
    request = _file(zk, keyring, "erasure", eu_mail)
    _check(zk, keyring, request)
    assert (request.profile, request.profile_source) == ("gdpr", "datastore")


def test_identities_stored_differently_are_found_on_mariadb(db: Session, conf: Settings, keyring: Keyring) -> None:
    """The regional lookup matches an e-mail stored in upper case with spaces, on MariaDB (FOREIGN-SCHEMAS)."""
    from privet.datamap.service import validate_and_apply
    from privet.demo.generator import company, fill
    from privet.jobs import dispatch
    from privet.requests.intake.jurisdiction import locate_unknown
    from privet.subjects.service import get_or_create_subject
    from tests.support.services import create_mysql_database

    url, drop = create_mysql_database()
    try:
        urls = dict.fromkeys(company("zkteco").datastores(), url)
        fill("zkteco", urls, customers=12, seed=5)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            eu_id, eu_mail = conn.execute(sa.text("SELECT id, email FROM eu_accounts ORDER BY id")).first()
            conn.execute(
                sa.text("UPDATE eu_accounts SET email = :v WHERE id = :i"), {"v": f"  {eu_mail.upper()} ", "i": eu_id}
            )
        engine.dispose()
        settings = conf.model_copy(update={"secrets": {company("zkteco").secret(k): u for k, u in urls.items()}})
        db.info[dispatch.SETTINGS_KEY] = settings
        validate_and_apply(db, ZKTECO, actor="test")
        subject, _ = get_or_create_subject(db, keyring, "email", eu_mail, actor="test")
        assert locate_unknown(db, keyring, settings, actor="test")["located"] >= 1
        assert (subject.region, subject.jurisdiction) == ("EU", "gdpr")
    finally:
        drop()


@pytest.mark.promise("P6")
def test_requests_are_routed_by_law_and_organisation(zk, keyring: Keyring, zkteco_urls: dict[str, str]) -> None:
    from privet.requests.queries import list_requests

    session, _settings = zk
    eu = _file(
        zk, keyring, "access", _email(zkteco_urls["accounts_eu"], "eu_accounts"), organisation="Acme  Security Ltd"
    )
    cn = _file(zk, keyring, "access", _email(zkteco_urls["accounts_cn"], "accounts"))
    _check(zk, keyring, eu)
    _check(zk, keyring, cn)
    assert eu.organisation_ref == "Acme Security Ltd"
    assert session.get(Subject, eu.subject_id).organisation_ref == "Acme Security Ltd"  # written at verification
    rows, total = list_requests(session, profile="gdpr")
    assert [r.id for r in rows] == [eu.id] and total == 1
    rows, _total = list_requests(session, organisation="acme security ltd")
    assert [r.id for r in rows] == [eu.id]
    assert list_requests(session, organisation="Another Ltd") == ([], 0)
    for bad in ({"profile": "hipaa"}, {"organisation": "x@y.example"}):
        with pytest.raises(InvalidInput):
            list_requests(session, **bad)


def test_after_loading_the_zkteco_demo_people_get_three_laws(
    privet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_MAIL_SENDER", "console")
    monkeypatch.setenv("PRIVET_EXAMPLES_DIR", str(ZKTECO.parents[1]))
    get_settings.cache_clear()
    loaded = privet("demo", "--company", "zkteco", "--customers", "30")
    assert loaded.exit_code == 0, loaded.output
    assert "People by the law their requests get:" in loaded.output
    people = json.loads(privet("requests", "jurisdictions", "--json").output)["people"]
    by = {(row["law"], row["from"]): row["people"] for row in people}
    assert by[("gdpr", "datastore")] >= 1 and by[("pipl", "datastore")] >= 1 and by[("ccpa", "declared")] == 2
    assert not json.loads(privet("requests", "jurisdictions", "--locate", "--json").output)["located"]["located"]

    # an EU customer's request gets the GDPR month without saying where they are; the officer sees why
    eu_mail = _email(f"sqlite:///{tmp_path / 'var' / 'demo' / 'zkteco' / 'accounts_eu.sqlite'}", "eu_accounts")
    filed = privet("requests", "file", "--type", "access", "--identity", eu_mail, "--checked", "id_document")
    assert filed.exit_code == 0, filed.output
    reference = re.search(r"R-[0-9A-Z]{8}", filed.output).group(0)
    shown = json.loads(privet("requests", "show", reference, "--json").output)
    assert (shown["profile"], shown["profile_source"]) == ("gdpr", "datastore")
    assert eu_mail not in privet("requests", "show", reference).output
    listed = privet("requests", "list", "--law", "gdpr")
    assert reference in listed.output and "gdpr (datastore)" in listed.output
    bad = privet("requests", "list", "--law", "hipaa")
    assert bad.exit_code == 2 and "pipl, gdpr, ccpa" in bad.output


@pytest.mark.promise("P6")
def test_region_and_organisation_over_http(
    zk, keyring: Keyring, engine, session_factory, zkteco_urls: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    from privet.app import create_app
    from privet.auth.keys import create_api_key

    session, settings = zk
    _key, token = create_api_key(session, "officer", ["requests:read", "requests:write"], actor="test")
    session.commit()
    app = create_app(settings, engine=engine, check_migrations=False)
    app.state.test_sessionmaker = session_factory
    officer = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        app.state.sessionmaker = app.state.test_sessionmaker
        before = session.scalar(select(sa.func.count()).select_from(DsrRequest))
        bad = client.post(
            "/api/v1/public/requests",
            json={
                "type": "access",
                "identity_type": "email",
                "identity": "someone@zkteco.example",
                "region": "Europe",
                "organisation": "write to boss@acme.example",
            },
        )
        assert bad.status_code == 422 and {e["where"] for e in bad.json()["errors"]} == {"region", "organisation"}
        assert session.scalar(select(sa.func.count()).select_from(DsrRequest)) == before  # nothing stored
        filed = client.post(
            "/api/v1/public/requests",
            json={
                "type": "access",
                "identity_type": "email",
                "identity": "ca-person@zkteco.example",
                "region": "us-ca",
            },
        )
        assert filed.status_code == 201, filed.text
        staff = client.post(
            "/api/v1/requests",
            headers=officer,
            json={
                "type": "access",
                "identity_type": "email",
                "channel": "staff_email",
                "organisation": "Acme Security Ltd",
                "identity": _email(zkteco_urls["accounts_eu"], "eu_accounts"),
                "identity_check": {"method": "id_document"},
            },
        )
        assert staff.status_code == 201, staff.text
        ccpa = client.get("/api/v1/requests", params={"profile": "ccpa"}, headers=officer).json()["items"]
        assert [(r["profile"], r["profile_source"], r["declared_region"]) for r in ccpa] == [
            ("ccpa", "declared", "US-CA")
        ]
        acme = client.get("/api/v1/requests", params={"organisation": "ACME security ltd"}, headers=officer).json()
        [one] = acme["items"]
        assert (one["organisation_ref"], one["profile"], one["profile_source"]) == (
            "Acme Security Ltd",
            "gdpr",
            "datastore",
        )
        assert client.get("/api/v1/requests", params={"profile": "hipaa"}, headers=officer).status_code == 422
        assert client.get("/api/v1/requests", params={"profile": "gdpr"}).status_code == 401
