"""P30 material-change campaigns: publishing a material version tells each person whose consent it affects, in their
language, by e-mail (SMS when that is all there is), through a real SMTP server; failed sends are retried and shown
failed; counts are of what happened; decisions deny the changed purpose until the person gives consent again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privet.auth.keys import create_api_key
from privet.consent.campaigns import service as campaigns
from privet.consent.channels import set_preference
from privet.consent.decisions import rules as d
from privet.consent.decisions.service import decide
from privet.consent.ledger import service as ledger
from privet.consent.models import Campaign, CampaignMessage
from privet.jobs.models import Job
from privet.jobs.service import run_until_idle
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.notices import service as notices
from privet.settings import Settings
from privet.subjects import service as subjects
from tests.subjects.test_verification_support import free_port

pytestmark = pytest.mark.promise("P30")
IMPORTANT_NOTICE = pytest.mark.promise("P35")
fake, fake_zh = Faker("en_US"), Faker("zh_CN")
TEXT = "Privacy policy\n1. Marketing\nWe send offers.\n2. Analytics\nWe count visits.\n"
PURPOSES = ["marketing.communications", "analytics.usage"]
FAILING, FLAKY = "down.example", "flaky.example"


@dataclass
class Mailbox:
    """An SMTP server's handler: accepts mail, refuses every message to @down.example (451, each time) and the first
    to @flaky.example."""

    received: list[tuple[str, str, str]] = field(default_factory=list)  # (to, subject, body)
    refused: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        import email
        from email.policy import default

        to = envelope.rcpt_tos[0]
        if to.endswith("@" + FAILING) or (to.endswith("@" + FLAKY) and to not in self.refused):
            self.refused.append(to)
            return "451 4.3.0 Mailbox temporarily unavailable"
        message = email.message_from_bytes(envelope.original_content, policy=default)
        self.received.append((to, str(message["Subject"]), message.get_content()))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[int, Mailbox]) -> Mailbox:
    smtp_server[1].received.clear()
    smtp_server[1].refused.clear()
    return smtp_server[1]


@pytest.fixture
def conf(settings: Settings, smtp_server: tuple[int, Mailbox]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_port": smtp_server[0],
            "mail_from": "privacy@acme.example",
            "jobs_max_attempts": 3,
            "jobs_retry_seconds": 0.01,
            "public_url": "https://privacy.acme.example",
        }
    )


@pytest.fixture
def keyring(conf: Settings) -> Keyring:
    return Keyring.from_settings(conf)


@pytest.fixture
def run(db: Session, session_factory: sessionmaker[Session], conf: Settings, keyring: Keyring) -> Callable[[], int]:
    """Commit the test session and run every job, waiting out the short retry back-offs."""

    def go() -> int:
        db.commit()
        ran = 0
        for _ in range(300):
            done = run_until_idle(session_factory, conf, keyring)
            ran += done
            with session_factory() as check:
                if (
                    not done
                    and check.execute(select(Job.id).where(Job.status.in_(("queued", "running")))).first() is None
                ):
                    break
            time.sleep(0.02)
        db.expire_all()
        return ran

    return go


def _person(db: Session, keyring: Keyring, identities: list[tuple[str, str]]):
    return subjects.create_subject(db, keyring, [(t, v, True) for t, v in identities], actor="test")


def _consent(db: Session, subject, purpose: str, language: str = "en", event: str = "given"):
    return ledger.record(
        db,
        subject_id=subject.id,
        purpose=purpose,
        event=event,
        method="form",
        actor="test",
        language=language,
        at=utcnow() - timedelta(days=2),
    )


@pytest.fixture
def people(db: Session, keyring: Keyring, keptek: Session) -> dict:
    """Six people: four affected by a change to marketing (one in Chinese, one with a phone only, one whose mail
    server is down, one whose server fails once), one who consented to analytics only, one who withdrew."""
    notices.publish(db, key="main", texts={"en": TEXT}, effective_date=date.today(), purposes=PURPOSES, actor="test")
    made = {
        "en": _person(db, keyring, [("email", fake.unique.email(domain="mail.example"))]),
        "zh": _person(db, keyring, [("email", fake_zh.unique.email(domain="mail.example"))]),
        "sms": _person(db, keyring, [("phone", "+8613800138000")]),
        "down": _person(db, keyring, [("email", fake.unique.user_name() + "@" + FAILING)]),
        "flaky": _person(db, keyring, [("email", fake.unique.user_name() + "@" + FLAKY)]),
        "analytics": _person(db, keyring, [("email", fake.unique.email(domain="mail.example"))]),
        "withdrew": _person(db, keyring, [("email", fake.unique.email(domain="mail.example"))]),
    }
    for key in ("en", "sms", "down", "flaky", "withdrew"):
        _consent(db, made[key], "marketing.communications")
    _consent(db, made["zh"], "marketing.communications", "zh_CN")
    # P35: a policy change is an important notice; switching marketing e-mail off does not stop it
    set_preference(db, made["en"].id, "marketing.communications", "email", False, actor="test")
    _consent(db, made["analytics"], "analytics.usage")
    ledger.record(
        db,
        subject_id=made["withdrew"].id,
        purpose="marketing.communications",
        event="withdrawn",
        method="form",
        actor="test",
        at=utcnow() - timedelta(days=1),
    )
    return made


def _publish_material(db: Session) -> None:
    notices.publish(
        db,
        key="main",
        texts={"en": TEXT + "3. Partners\nWe now share offers with partners.\n"},
        effective_date=date.today(),
        purposes=PURPOSES,
        material=["marketing.communications"],
        actor="test",
    )


def _email(identities: list, subject) -> str:
    return next(v.value for v in identities if v.type == "email")


@IMPORTANT_NOTICE
def test_a_material_version_tells_the_affected_people_and_counts_what_happened(
    db: Session, people: dict, run: Callable, mailbox: Mailbox, keyring: Keyring, capsys: pytest.CaptureFixture
) -> None:
    _publish_material(db)
    run()
    campaign = db.execute(select(Campaign)).scalar_one()
    assert (campaign.notice_key, campaign.notice_version, campaign.purposes) == (
        "main",
        2,
        ["marketing.communications"],
    )
    counts = campaigns.counts(db, campaign)
    # five held marketing consent when it changed; the analytics-only and the withdrawn are not told
    assert counts.as_dict() == {"people": 5, "queued": 0, "sent": 4, "failed": 1, "no_address": 0, "reconsented": 0}
    by_subject = {m.subject_id: m for m in campaigns.messages(db, campaign)}
    assert set(by_subject) == {people[k].id for k in ("en", "zh", "sms", "down", "flaky")}
    down, flaky = by_subject[people["down"].id], by_subject[people["flaky"].id]
    assert (down.status, down.attempts, down.last_error) == (
        "failed",
        3,
        "Unavailable: The e-mail could not be sent (SMTPDataError)",
    )
    assert (flaky.status, flaky.attempts) == ("sent", 2)  # the first attempt failed, the retry went through
    assert by_subject[people["sms"].id].channel == "sms" and by_subject[people["zh"].id].language == "zh_CN"
    # the e-mails, in each person's language, with the link to give consent again
    received = {to: (subject, body) for to, subject, body in mailbox.received}
    en_to = _email(subjects.identities_of(db, keyring, people["en"]), people["en"])
    zh_to = _email(subjects.identities_of(db, keyring, people["zh"]), people["zh"])
    assert "privacy policy has changed" in received[en_to][0]
    assert "https://privacy.acme.example/consents" in received[en_to][1]
    assert "隐私政策已变更" in received[zh_to][0] and "https://privacy.acme.example/consents" in received[zh_to][1]
    assert len(mailbox.received) == 3  # en, zh, flaky (on its retry); the SMS went to the console sender
    assert "[privet sms to +8613800138000]" in capsys.readouterr().out
    from privet.audit.models import AuditEvent

    actions = [e.action for e in db.execute(select(AuditEvent).where(AuditEvent.object_id == campaign.id)).scalars()]
    assert (
        sorted(set(actions))
        == ["consent.campaign_message_failed", "consent.campaign_message_sent", "consent.campaign_started"]
        and actions.count("consent.campaign_message_sent") == 4
    )
    # no address in the job rows or in the messages' errors
    payloads = " ".join(str(j.payload) + str(j.last_error) for j in db.execute(select(Job)).scalars())
    assert "@" not in payloads and "+86" not in payloads


def test_decisions_deny_until_the_person_consents_again(
    db: Session, people: dict, run: Callable, mailbox: Mailbox, keyring: Keyring
) -> None:
    _publish_material(db)
    run()
    campaign = db.execute(select(Campaign)).scalar_one()
    who = people["en"]
    denied = decide(db, purpose="marketing.communications", subject_id=who.id, keyring=keyring)
    assert (denied.allowed, denied.reason) == (False, d.CONSENT_BEFORE_MATERIAL_CHANGE)
    assert decide(db, purpose="analytics.usage", subject_id=people["analytics"].id, keyring=keyring).allowed
    ledger.record(
        db, subject_id=who.id, purpose="marketing.communications", event="renewed", method="form", actor="test"
    )
    db.flush()
    assert decide(db, purpose="marketing.communications", subject_id=who.id, keyring=keyring).allowed
    assert campaigns.counts(db, campaign).reconsented == 1


def test_failed_messages_are_queued_again_and_nothing_is_sent_twice(
    db: Session, people: dict, run: Callable, mailbox: Mailbox
) -> None:
    _publish_material(db)
    run()
    campaign = db.execute(select(Campaign)).scalar_one()
    before = len(mailbox.received)
    assert campaigns.retry_failed(db, campaign, actor="test") == 1
    run()  # the server is still down for that address: failed again; the others are not sent again
    assert len(mailbox.received) == before
    assert campaigns.counts(db, campaign).failed == 1
    assert campaigns.start(db, "main", 2).id == campaign.id  # starting again finds the campaign, adds nothing
    assert db.execute(select(CampaignMessage)).scalars().all().__len__() == 5


def test_a_text_change_starts_no_campaign(db: Session, people: dict, run: Callable) -> None:
    notices.publish(
        db,
        key="main",
        texts={"en": TEXT + "3. Typo\nFixed.\n"},
        effective_date=date.today(),
        purposes=PURPOSES,
        actor="test",
    )
    run()
    assert db.execute(select(Campaign)).first() is None


def test_the_api_lists_shows_and_retries_with_scopes(
    db: Session, people: dict, run: Callable, client: TestClient, mailbox: Mailbox
) -> None:
    _publish_material(db)
    run()

    def key(*scopes: str) -> dict:
        _key, token = create_api_key(db, "campaign-tests", list(scopes), actor="test")
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    reader = key("notices:read")
    listed = client.get("/api/v1/campaigns", headers=reader)
    assert listed.status_code == 200, listed.text
    [one] = listed.json()
    assert one["counts"]["sent"] == 4 and one["counts"]["failed"] == 1 and one["notice"] == "main"
    shown = client.get(f"/api/v1/campaigns/{one['id']}", params={"status": "failed"}, headers=reader).json()
    assert [m["status"] for m in shown["messages"]] == ["failed"] and "@" not in str(shown)
    assert client.get("/api/v1/campaigns").status_code == 401
    assert client.get("/api/v1/campaigns", headers=key("consent:read")).status_code == 403
    missing = client.get("/api/v1/campaigns/nope", headers=reader)
    assert missing.status_code == 404 and missing.json()["detail"]
    assert client.get(f"/api/v1/campaigns/{one['id']}", params={"status": "lost"}, headers=reader).status_code == 422
    assert client.post(f"/api/v1/campaigns/{one['id']}/retry", headers=reader).status_code == 403
    retried = client.post(f"/api/v1/campaigns/{one['id']}/retry", headers=key("notices:write"))
    assert retried.status_code == 200 and retried.json() == {"queued": 1}


def test_the_cli_publishes_runs_and_shows_a_campaign(
    privet, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from privet.settings import get_settings
    from tests.consent.conftest import KEPTEK

    monkeypatch.setenv("PRIVET_MAIL_SENDER", "console")
    get_settings.cache_clear()
    assert privet("datamap", "apply", str(KEPTEK)).exit_code == 0
    policy = tmp_path / "policy.en.txt"
    policy.write_text(TEXT, encoding="utf-8")
    today = date.today().isoformat()
    first = privet(
        "notices",
        "publish",
        str(policy),
        "--key",
        "main",
        "--effective",
        today,
        "--purpose",
        "marketing.communications",
        "--purpose",
        "analytics.usage",
    )
    assert first.exit_code == 0, first.output
    address = fake.unique.email(domain="mail.example")
    granted = privet("consent", "grant", "--type", "email", "--value", address, "--purpose", "marketing.communications")
    assert granted.exit_code == 0, granted.output
    assert privet("campaigns", "list").stdout.startswith("no campaigns yet")
    policy.write_text(TEXT + "3. Partners\nWe now share offers with partners.\n", encoding="utf-8")
    second = privet(
        "notices",
        "publish",
        str(policy),
        "--key",
        "main",
        "--effective",
        today,
        "--material",
        "marketing.communications",
    )
    assert second.exit_code == 0, second.output
    assert "a re-consent campaign is queued for people who consented to marketing.communications" in second.stdout
    assert privet("jobs", "work", "--once").exit_code == 0
    listed = privet("campaigns", "list")
    assert listed.exit_code == 0 and "main" in listed.stdout
    campaign_id = next(
        line.split("│")[1].strip() for line in listed.stdout.splitlines() if "│" in line and "main" in line
    )
    shown = privet("campaigns", "show", campaign_id)
    assert shown.exit_code == 0, shown.output
    assert "people: 1  sent: 1  failed: 0  queued: 0  no_address: 0  reconsented: 0" in shown.stdout
    assert address not in shown.stdout and "sent" in shown.stdout
    assert privet("campaigns", "retry", campaign_id).stdout.strip() == "0 failed message(s) queued again"
    missing = privet("campaigns", "show", "nope")
    assert missing.exit_code == 2 and "No campaign 'nope'" in missing.output
    bad = privet("campaigns", "show", campaign_id, "--status", "lost")
    assert bad.exit_code == 2 and "not a message status" in bad.output
    get_settings.cache_clear()
