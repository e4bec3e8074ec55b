"""One-time codes end to end against a real SMTP server and the console SMS sender, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound, Unavailable
from privet.settings import Settings
from privet.subjects import service, verification
from privet.subjects.models import Identity, VerificationChallenge
from privet.subjects.verification import CodeRejected, TooManyCodes, check, forget_expired, start
from tests.subjects.test_verification_support import (  # noqa: F401 - fixtures
    cn_mobile,
    console_code,
    free_port,
    verify_smtp,
)

fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")
T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def conf(settings: Settings, verify_smtp) -> Settings:
    return settings.model_copy(update={"smtp_port": verify_smtp.port})


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _events(db: Session, challenge_id: str) -> list[AuditEvent]:
    return list(
        db.execute(select(AuditEvent).where(AuditEvent.object_id == challenge_id).order_by(AuditEvent.seq)).scalars()
    )


def test_email_code_creates_then_finds_the_subject(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_en.email()
    with frozen_at(T0):
        started = start(db, keyring, conf, identity_type="email", value=address.upper(), client_ip="203.0.113.9")
    assert started.channel == "email" and started.expires_at == T0 + timedelta(minutes=10)
    code = verify_smtp.inbox.code_for(address)  # the address was normalised to lower case before sending
    with frozen_at(T0 + timedelta(minutes=9)):
        proven = check(db, keyring, conf, challenge_id=started.challenge_id, code=f" {code[:3]} {code[3:]} ")
    assert proven.identity_type == "email" and proven.subject_id
    assert proven.blind_index == keyring.blind_index("email", address.lower())
    identity = db.execute(select(Identity).where(Identity.blind_index == proven.blind_index)).scalar_one()
    assert identity.subject_id == proven.subject_id and identity.verified_at is not None
    with frozen_at(T0 + timedelta(minutes=20)):  # later, a second code for the same address: the same subject
        again = start(db, keyring, conf, identity_type="email", value=address)
        assert (
            check(
                db, keyring, conf, challenge_id=again.challenge_id, code=verify_smtp.inbox.code_for(address)
            ).subject_id
            == proven.subject_id
        )
    actions = [e.action for e in _events(db, started.challenge_id)]
    assert actions == ["verification.started", "verification.succeeded"]


def test_chinese_email(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_zh.email()
    started = start(db, keyring, conf, identity_type="email", value=address, language="zh-CN")
    message = verify_smtp.inbox.last_to(address)
    assert message["Subject"] == "您的验证码"
    code = verify_smtp.inbox.code_for(address)
    assert f"您的验证码是 {code}，10 分钟内有效。" in message.get_content()
    assert check(db, keyring, conf, challenge_id=started.challenge_id, code=code).subject_id


@pytest.mark.promise("P5")
def test_phone_code_by_console_sms(db: Session, keyring: Keyring, conf: Settings, capsys) -> None:
    phone = cn_mobile(fake_zh)
    started = start(db, keyring, conf, identity_type="phone", value=phone[3:], language="zh_CN")  # national form
    assert started.channel == "sms"
    printed = capsys.readouterr().out
    assert phone in printed  # normalised to E.164 with the CN default region
    proven = check(db, keyring, conf, challenge_id=started.challenge_id, code=console_code(printed))
    assert service.find_subject(db, keyring, "phone", phone).id == proven.subject_id


def test_only_email_and_phone_get_codes(db: Session, keyring: Keyring, conf: Settings) -> None:
    with pytest.raises(InvalidInput, match="e-mail address or a phone number") as refused:
        start(db, keyring, conf, identity_type="user_id", value="u-1001")
    assert "trusted token" in refused.value.hint
    with pytest.raises(InvalidInput, match="not a valid e-mail"):
        start(db, keyring, conf, identity_type="email", value="not-an-address")
    with pytest.raises(InvalidInput, match="not a valid phone"):
        start(db, keyring, conf, identity_type="phone", value="12345")
    with pytest.raises(InvalidInput, match="purpose"):
        start(db, keyring, conf, identity_type="email", value=fake_en.email(), purpose="marketing")
    assert db.scalar(select(func.count()).select_from(VerificationChallenge)) == 0


def test_expired_code_is_refused(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_en.email()
    with frozen_at(T0):
        started = start(db, keyring, conf, identity_type="email", value=address)
    code = verify_smtp.inbox.code_for(address)
    with frozen_at(T0 + timedelta(minutes=10)), pytest.raises(CodeRejected, match="expired") as refused:
        check(db, keyring, conf, challenge_id=started.challenge_id, code=code)
    assert refused.value.status == 401 and "verify/start" in refused.value.hint
    assert db.get(VerificationChallenge, started.challenge_id).value_enc is None  # the value is no longer kept


def test_lock_out_after_five_wrong_codes(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_en.email()
    started = start(db, keyring, conf, identity_type="email", value=address)
    code = verify_smtp.inbox.code_for(address)
    for attempt in range(1, 6):
        with pytest.raises(CodeRejected) as wrong:
            check(db, keyring, conf, challenge_id=started.challenge_id, code=_wrong(code))
        assert wrong.value.counted
        assert (f"{5 - attempt} attempts left" in wrong.value.hint) if attempt < 5 else "locked" in wrong.value.detail
    with pytest.raises(CodeRejected, match="can no longer be used"):
        check(db, keyring, conf, challenge_id=started.challenge_id, code=code)
    challenge = db.get(VerificationChallenge, started.challenge_id)
    assert challenge.attempts == 5 and challenge.locked_at and challenge.consumed_at is None
    assert service.find_subject(db, keyring, "email", address) is None
    failed = [e.details for e in _events(db, started.challenge_id) if e.action == "verification.failed"]
    assert [d["attempts"] for d in failed] == [1, 2, 3, 4, 5] and failed[-1]["locked"] is True


def test_used_code_cannot_be_reused(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_en.email()
    started = start(db, keyring, conf, identity_type="email", value=address)
    code = verify_smtp.inbox.code_for(address)
    check(db, keyring, conf, challenge_id=started.challenge_id, code=code)
    with pytest.raises(CodeRejected, match="already used"):
        check(db, keyring, conf, challenge_id=started.challenge_id, code=code)
    with pytest.raises(NotFound):
        check(db, keyring, conf, challenge_id="0" * 26, code=code)


def test_resend_throttle_and_newer_code_replaces_older(
    db: Session, keyring: Keyring, conf: Settings, verify_smtp
) -> None:
    address = fake_en.email()
    with frozen_at(T0):
        first = start(db, keyring, conf, identity_type="email", value=address)
    first_code = verify_smtp.inbox.code_for(address)
    with frozen_at(T0 + timedelta(seconds=20)), pytest.raises(TooManyCodes) as throttled:
        start(db, keyring, conf, identity_type="email", value=address)
    assert throttled.value.status == 429 and throttled.value.headers == {"Retry-After": "40"}
    with frozen_at(T0 + timedelta(seconds=61)):
        second = start(db, keyring, conf, identity_type="email", value=address)
        with pytest.raises(CodeRejected, match="newer code"):
            check(db, keyring, conf, challenge_id=first.challenge_id, code=first_code)
        assert check(
            db, keyring, conf, challenge_id=second.challenge_id, code=verify_smtp.inbox.code_for(address)
        ).subject_id


def test_hourly_cap_per_identity(db: Session, keyring: Keyring, conf: Settings, capsys) -> None:
    phone = cn_mobile(fake_zh)
    for i in range(5):
        with frozen_at(T0 + timedelta(seconds=61 * i)):
            start(db, keyring, conf, identity_type="phone", value=phone)
    with frozen_at(T0 + timedelta(seconds=61 * 5)), pytest.raises(TooManyCodes, match="last hour") as capped:
        start(db, keyring, conf, identity_type="phone", value=phone)
    assert capped.value.headers["Retry-After"] == str(3600 - 61 * 5)
    with frozen_at(T0 + timedelta(hours=1, seconds=1)):
        start(db, keyring, conf, identity_type="phone", value=phone)


def test_cap_per_client_address(db: Session, keyring: Keyring, conf: Settings, capsys) -> None:
    cap = getattr(conf, "otp_per_client_per_hour", 20)
    phones = {cn_mobile(fake_zh) for _ in range(cap + 2)}
    with frozen_at(T0):
        for phone in list(phones)[:cap]:
            start(db, keyring, conf, identity_type="phone", value=phone, client_ip="198.51.100.7")
        with pytest.raises(TooManyCodes, match="from this address"):
            start(db, keyring, conf, identity_type="phone", value=list(phones)[cap], client_ip="198.51.100.7")
        start(db, keyring, conf, identity_type="phone", value=list(phones)[cap], client_ip="198.51.100.8")
    stored = set(db.execute(select(VerificationChallenge.client_hash)).scalars())
    assert stored == {keyring.fingerprint("198.51.100.7"), keyring.fingerprint("198.51.100.8")}


def test_no_code_or_value_in_the_store_or_audit(db: Session, keyring: Keyring, conf: Settings, verify_smtp) -> None:
    address = fake_en.email()
    started = start(db, keyring, conf, identity_type="email", value=address, client_ip="192.0.2.44")
    code = verify_smtp.inbox.code_for(address)
    row = db.get(VerificationChallenge, started.challenge_id)
    stored = " ".join(repr(getattr(row, c.key)) for c in VerificationChallenge.__table__.columns)
    assert code not in stored and address not in stored and "192.0.2.44" not in stored
    assert address.encode() not in row.value_enc
    check(db, keyring, conf, challenge_id=started.challenge_id, code=code)
    assert db.get(VerificationChallenge, started.challenge_id).value_enc is None
    audit = json.dumps([e.details for e in db.execute(select(AuditEvent)).scalars()])
    assert code not in audit and address not in audit and "192.0.2.44" not in audit


def test_failed_send_keeps_nothing(db: Session, keyring: Keyring, settings: Settings) -> None:
    down = settings.model_copy(update={"smtp_port": free_port()})
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Unavailable):
        start(db, keyring, down, identity_type="email", value=fake_en.email())
    assert db.scalar(select(func.count()).select_from(VerificationChallenge)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_check_without_creating_and_forgetting_expired(
    db: Session, keyring: Keyring, conf: Settings, verify_smtp
) -> None:
    address = fake_en.email()
    started = start(db, keyring, conf, identity_type="email", value=address)
    proven = check(
        db,
        keyring,
        conf,
        challenge_id=started.challenge_id,
        code=verify_smtp.inbox.code_for(address),
        create_subject=False,
    )
    assert proven.subject_id is None and service.find_subject(db, keyring, "email", address) is None
    with frozen_at(T0):
        waiting = start(db, keyring, conf, identity_type="email", value=fake_en.email())
    assert forget_expired(db, now=T0 + timedelta(minutes=5)) == 0
    assert forget_expired(db, now=T0 + timedelta(minutes=11)) == 1
    db.expire_all()
    assert db.get(VerificationChallenge, waiting.challenge_id).value_enc is None
    assert verification.CHANNELS == {"email": "email", "phone": "sms"}
