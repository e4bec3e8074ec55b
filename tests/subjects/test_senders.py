"""Senders against real local services: SMTP (aiosmtpd) and an HTTP SMS gateway; the console sender."""

from __future__ import annotations

import json

import pytest
from faker import Faker

from privet.kit.errors import InvalidInput, Unavailable
from privet.settings import Settings
from privet.subjects.senders import (
    ConsoleSmsSender,
    EmailSender,
    SmsHttpSender,
    language_of,
    render,
    sender_for,
)
from tests.subjects.test_verification_support import (  # noqa: F401 - fixtures
    SMTP_PASSWORD,
    SMTP_USER,
    cn_mobile,
    free_port,
    verify_gateway,
    verify_smtp,
)

fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")


def _settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


def test_email_in_english_and_chinese(settings: Settings, verify_smtp) -> None:
    sender = EmailSender(_settings(settings, smtp_port=verify_smtp.port, mail_from="privacy@keptek.example"))
    en, zh = fake_en.email(), fake_zh.email()
    sender.send_code(en, "123456", language="en", minutes=10)
    sender.send_code(zh, "654321", language="zh_CN", minutes=10)
    english = verify_smtp.inbox.last_to(en)
    assert english["Subject"] == "Your verification code" and english["From"] == "privacy@keptek.example"
    assert "Your verification code is 123456. It expires in 10 minutes." in english.get_content()
    chinese = verify_smtp.inbox.last_to(zh)
    assert chinese["Subject"] == "您的验证码"
    assert "您的验证码是 654321，10 分钟内有效。" in chinese.get_content()


def test_email_login_when_configured(settings: Settings, verify_smtp) -> None:
    to = fake_en.email()
    good = _settings(settings, smtp_port=verify_smtp.port, smtp_username=SMTP_USER, smtp_password=SMTP_PASSWORD)
    EmailSender(good).send_code(to, "111222", language="en", minutes=10)
    assert verify_smtp.inbox.code_for(to) == "111222"
    bad = _settings(good, smtp_password="wrong")
    with pytest.raises(Unavailable) as refused:
        EmailSender(bad).send_code(to, "333444", language="en", minutes=10)
    assert "SMTP_USERNAME" in refused.value.hint and to not in str(refused.value)


def test_email_server_unreachable_names_no_address(settings: Settings) -> None:
    to = fake_en.email()
    with pytest.raises(Unavailable) as unreachable:
        EmailSender(_settings(settings, smtp_port=free_port())).send_code(to, "123456", language="en", minutes=10)
    assert "PRIVET_SMTP_HOST" in unreachable.value.hint
    assert to not in str(unreachable.value) and "123456" not in str(unreachable.value)


def test_sms_gateway_gets_the_template_and_headers(settings: Settings, verify_gateway) -> None:
    phone = cn_mobile(fake_zh)
    configured = _settings(
        settings,
        sms_sender="http",
        sms_gateway_url=verify_gateway.url,
        sms_gateway_template='{"mobile": "{phone}", "content": "{message}", "sign": "Keptek"}',
        sms_gateway_headers={"X-Api-Key": "gw-key-1"},
    )
    sender = sender_for("sms", configured)
    assert isinstance(sender, SmsHttpSender)
    sender.send_code(phone, "987654", language="zh_CN", minutes=10)
    request = verify_gateway.requests[-1]
    assert request["path"] == "/sms/send" and request["headers"]["X-Api-Key"] == "gw-key-1"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["json"] == {"mobile": phone, "content": "您的验证码是 987654，10 分钟内有效。", "sign": "Keptek"}


def test_sms_template_values_are_json_escaped(settings: Settings, verify_gateway) -> None:
    sender = SmsHttpSender(_settings(settings, sms_gateway_url=verify_gateway.url))
    tricky = 'He said "stop" \\ then\nleft {phone}'
    sender.send("+8613800138000", tricky)
    assert json.loads(verify_gateway.requests[-1]["raw"]) == {"to": "+8613800138000", "text": tricky}


def test_sms_gateway_refusal_and_outage(settings: Settings, verify_gateway) -> None:
    phone = cn_mobile(fake_zh)
    verify_gateway.status = 500
    sender = SmsHttpSender(_settings(settings, sms_gateway_url=verify_gateway.url))
    with pytest.raises(Unavailable, match="HTTP 500") as refused:
        sender.send_code(phone, "123456", language="en", minutes=10)
    assert phone not in str(refused.value) and "123456" not in str(refused.value)
    down = SmsHttpSender(_settings(settings, sms_gateway_url=f"http://127.0.0.1:{free_port()}/sms"))
    with pytest.raises(Unavailable, match="could not be reached") as unreachable:
        down.send_code(phone, "123456", language="en", minutes=10)
    assert "PRIVET_SMS_GATEWAY_URL" in unreachable.value.hint and phone not in str(unreachable.value)
    with pytest.raises(Unavailable, match="No SMS gateway"):
        SmsHttpSender(settings).send_code(phone, "123456", language="en", minutes=10)


def test_sms_bad_template_is_a_clear_error(settings: Settings, verify_gateway) -> None:
    sender = SmsHttpSender(_settings(settings, sms_gateway_url=verify_gateway.url, sms_gateway_template="to={phone}"))
    with pytest.raises(InvalidInput, match="SMS_GATEWAY_TEMPLATE"):
        sender.send("+8613800138000", "hi")
    assert verify_gateway.requests == []


def test_console_sender_prints_and_does_not_log(settings: Settings, capsys, caplog) -> None:
    phone = cn_mobile(fake_zh)
    sender = sender_for("sms", settings)
    assert isinstance(sender, ConsoleSmsSender)
    sender.send_code(phone, "246810", language="en", minutes=10)
    assert "Your verification code is 246810. It expires in 10 minutes." in capsys.readouterr().out
    assert "246810" not in caplog.text


def test_sender_choice_and_languages(settings: Settings) -> None:
    assert isinstance(sender_for("email", settings), EmailSender)
    with pytest.raises(InvalidInput, match="PRIVET_SMS_SENDER"):
        sender_for("sms", _settings(settings, sms_sender="pigeon"))
    with pytest.raises(InvalidInput, match="channel"):
        sender_for("fax", settings)
    assert [language_of(t) for t in ("en", "en-US", "zh", "zh-CN", "zh_Hans", None)] == [
        "en",
        "en",
        "zh_CN",
        "zh_CN",
        "zh_CN",
        "en",
    ]
    with pytest.raises(InvalidInput, match="language"):
        language_of("fr")
    assert render("code_sms", "zh-CN", code="000111", minutes=5) == "您的验证码是 000111，5 分钟内有效。"


def test_console_email_sender_prints_the_code_in_the_language(capsys) -> None:
    from privet.settings import Settings
    from privet.subjects.senders import ConsoleEmailSender, sender_for

    sender = sender_for("email", Settings(mail_sender="console", secret_key="x" * 32))
    assert isinstance(sender, ConsoleEmailSender)
    sender.send_code("someone@example.org", "654321", language="zh_CN", minutes=10)
    out = capsys.readouterr().out
    assert "654321" in out and "someone@example.org" in out
    with pytest.raises(Exception, match="PRIVET_MAIL_SENDER"):
        sender_for("email", Settings(mail_sender="pigeon", secret_key="x" * 32))


def test_no_sender_is_assumed(tmp_path) -> None:
    """By default neither channel has a sender: nothing is printed, asking for one is a clear 503, and the
    reason is what start-up and /readyz report; console and smtp only when chosen."""
    from privet.kit.errors import Unavailable
    from privet.settings import Settings
    from privet.subjects.senders import cannot_deliver

    default = Settings(data_dir=tmp_path, secret_key="x" * 32)
    assert (default.mail_sender, default.sms_sender) == ("none", "none")
    for channel, setting in (("email", "PRIVET_MAIL_SENDER"), ("sms", "PRIVET_SMS_SENDER")):
        with pytest.raises(Unavailable, match="no sender is configured") as refused:
            sender_for(channel, default)
        assert refused.value.status == 503 and setting in refused.value.hint
        assert setting in cannot_deliver(channel, default)
    chosen = _settings(default, mail_sender="smtp", sms_sender="console")
    assert cannot_deliver("email", chosen) is None and cannot_deliver("sms", chosen) is None
    assert "GATEWAY" in cannot_deliver("sms", _settings(default, sms_sender="http"))
    assert "not a known sender" in cannot_deliver("email", _settings(default, mail_sender="pigeon"))
