"""The registers' console forms: processor alerts fixed from the console (the alert disappears), refused forms that
keep the officer's input, say what to fix and write nothing (a ground the policy does not declare, an agreement
expiring before it was signed, a transfer without a mechanism), the policy's grounds changed, a share previewed
(who would be included and why the others would be left out, nothing recorded) then recorded, disclosures,
corporate and cross-border transfers, audited under the officer; a read-only role sees no form and gets 403."""

from __future__ import annotations

from datetime import date
from html import unescape
from pathlib import Path

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.registers import alerts as register_alerts
from privet.registers.crossborder_models import CrossBorderTransfer
from privet.registers.models import CorporateTransfer, Disclosure, Processor, Recipient, RegisterPolicy, SharingEvent
from tests.consent.conftest import faker_multi, make_subject, ring  # noqa: F401 - fixtures reused
from tests.reports.datamap import apply_datamap
from tests.web.admin.conftest import HTML

fake = Faker()


def _count(db: Session, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _audits(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _processor_alerts(db: Session) -> set[tuple[str, str]]:
    db.expire_all()
    return {(a.kind, a.key) for a in register_alerts.all_alerts(db) if a.entry == "processor"}


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    """The reports data map (newsletter names processor mail_vendor, unregistered; partner_offers shares with
    partner_co on consent, unregistered too) and a registered processor whose agreement expired: two processor
    alerts and a recipient alert."""
    from privet.registers import processors

    apply_datamap(db, tmp_path / "dm")
    processors.add_processor(
        db,
        key="cloud_host",
        name=f"{fake.company()} Cloud",
        actor="test",
        agreement_ref="DPA-7",
        signed_on=date(2020, 1, 1),
        expires_on=date(2021, 1, 1),
        regions=["CN"],
    )
    db.commit()
    return db


def _partner(client: TestClient, token: str, **changes: object):
    form = {
        "csrf_token": token,
        "key": "partner_co",
        "name": f"{fake.company()} Partners",
        "kind": "partner",
        "purposes": ["sharing.partners"],
        "categories": ["user.name"],
        "region": "CN",
        "agreement_ref": "NDA-1",
        "signed_on": "2025-01-01",
        "expires_on": "2035-01-01",
        **changes,
    }
    return client.post("/admin/registers/recipients", data=form, headers=HTML, follow_redirects=False)


def test_processor_alerts_are_fixed_from_the_console(client: TestClient, officer, mapped: Session) -> None:
    token = officer("privacy_officer")
    assert _processor_alerts(mapped) == {("unregistered", "mail_vendor"), ("expired", "cloud_host")}
    shown = client.get("/admin/registers", headers=HTML).text
    assert 'href="/admin/registers/add/processor?key=mail_vendor"' in shown
    assert 'href="/admin/registers/processors/cloud_host"' in shown and "Newsletter" in shown
    form = client.get("/admin/registers/add/processor?key=mail_vendor", headers=HTML).text
    assert 'value="mail_vendor"' in form and ">Email address<" in form.replace("&nbsp;", "")
    added = client.post(
        "/admin/registers/processors",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "key": "mail_vendor",
            "name": f"{fake.company()} Mail",
            "agreement_ref": "DPA-9",
            "signed_on": "2025-02-01",
            "expires_on": "2030-01-31",
            "purposes": ["marketing.communications"],
            "categories": ["user.contact.email"],
            "regions": "CN, HK",
            "security_measures": "TLS\nAudits",
        },
    )
    assert added.status_code == 303 and added.headers["location"] == "/admin/registers?done=processor_saved"
    edit = client.get("/admin/registers/processors/cloud_host", headers=HTML).text
    assert 'value="DPA-7"' in edit and 'value="2021-01-01"' in edit
    renewed = client.post(
        "/admin/registers/processors/cloud_host",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "name": "Cloud Host",
            "agreement_ref": "DPA-7b",
            "signed_on": "2025-01-01",
            "expires_on": "2029-12-31",
            "regions": "CN",
        },
    )
    assert renewed.status_code == 303
    assert _processor_alerts(mapped) == set()
    page = unescape(client.get("/admin/registers?done=processor_saved", headers=HTML).text)
    shown_alerts = page.split('id="processor-alerts"')[1].split("</table>")[0]
    assert "The processor's entry was saved." in page
    assert "mail_vendor" not in shown_alerts and "cloud_host" not in shown_alerts and "partner_co" in shown_alerts
    stored = mapped.scalar(select(Processor).where(Processor.key == "mail_vendor"))
    assert stored.regions == ["CN", "HK"] and stored.security_measures == ["TLS", "Audits"]
    actors = {
        e.actor
        for e in [*_audits(mapped, "registers.processor.added"), *_audits(mapped, "registers.processor.updated")]
        if e.actor != "test"
    }
    assert len(actors) == 1 and actors.pop().startswith("user:privacy-officer")
    assert len(_audits(mapped, "registers.processor.updated")) == 1


def test_a_refused_processor_form_keeps_the_input_says_what_to_fix_and_writes_nothing(
    client: TestClient, officer, mapped: Session
) -> None:
    token = officer("privacy_officer")
    before = (_count(mapped, Processor), _count(mapped, AuditEvent))
    name = f"{fake.company()} Mail"
    form = {
        "csrf_token": token,
        "key": "mail_vendor",
        "name": name,
        "agreement_ref": "DPA-9",
        "signed_on": "2025-02-01",
        "expires_on": "2024-01-31",
        "categories": ["user.contact.email"],
    }
    refused = client.post("/admin/registers/processors", headers=HTML, data=form)
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    assert "Check “Agreement expires on”" in refused.text and "expires before it was signed" in refused.text
    assert f'value="{name}"' in refused.text and 'value="2024-01-31"' in refused.text
    assert 'value="user.contact.email" title="user.contact.email" selected' in refused.text
    taken = client.post(
        "/admin/registers/processors", headers=HTML, data={**form, "key": "cloud_host", "expires_on": "2030-01-01"}
    )
    assert taken.status_code == 409 and "already registered" in taken.text
    not_a_date = client.post(
        "/admin/registers/processors/cloud_host", headers=HTML, data={**form, "signed_on": "first of May"}
    )
    assert not_a_date.status_code == 422 and "Check “Agreement signed on”" in not_a_date.text
    assert (_count(mapped, Processor), _count(mapped, AuditEvent)) == before
    assert mapped.scalar(select(Processor).where(Processor.key == "cloud_host")).agreement_ref == "DPA-7"


def test_a_ground_the_policy_does_not_declare_is_refused_and_nothing_is_written(
    client: TestClient, officer, mapped: Session
) -> None:
    token = officer("privacy_officer")
    shown = client.get("/admin/registers/policy", headers=HTML).text
    assert "No policy declared" in shown and 'id="g-keptek_b"' in shown
    empty = client.post("/admin/registers/policy", headers=HTML, data={"csrf_token": token, "name": "Policy 2025"})
    assert empty.status_code == 422 and "at least one ground" in empty.text and _count(mapped, RegisterPolicy) == 0
    declared = client.post(
        "/admin/registers/policy",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "name": "Privacy policy 2025-11-28", "grounds": ["law_required", "keptek_b"]},
    )
    assert declared.status_code == 303
    after = client.get(declared.headers["location"], headers=HTML).text
    assert "The grounds of the policy were saved." in after and "Privacy policy 2025-11-28" in after
    assert _audits(mapped, "registers.policy.declared")[0].details["grounds"] == ["law_required", "keptek_b"]
    before = (_count(mapped, Recipient), _count(mapped, AuditEvent))
    refused = _partner(client, token, legal_grounds=["keptek_e"])
    assert refused.status_code == 422 and "Check “Grounds it may rest on”" in refused.text
    assert "policy has no ground 'keptek_e'" in unescape(refused.text) and "law_required, keptek_b" in refused.text
    assert 'value="partner_co"' in refused.text and 'value="NDA-1"' in refused.text
    assert (_count(mapped, Recipient), _count(mapped, AuditEvent)) == before
    assert _partner(client, token, legal_grounds=["keptek_b"]).status_code == 303
    assert mapped.scalar(select(Recipient).where(Recipient.key == "partner_co")).legal_grounds == ["keptek_b"]


def test_a_recipient_s_purpose_change_from_its_form_asks_for_consent_again(
    client: TestClient, officer, mapped: Session
) -> None:
    token = officer("privacy_officer")
    assert _partner(client, token).status_code == 303
    edit = client.get("/admin/registers/recipients/partner_co", headers=HTML).text
    assert 'id="recipient-form"' in edit and 'value="sharing.partners" title="sharing.partners" selected' in edit
    changed = client.post(
        "/admin/registers/recipients/partner_co",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "name": "Partners",
            "kind": "partner",
            "purposes": ["sharing.partners", "analytics"],
            "categories": ["user.name"],
            "region": "CN",
            "agreement_ref": "NDA-1",
            "signed_on": "2025-01-01",
            "expires_on": "2035-01-01",
            "reason": "Partners now measure campaigns",
        },
    )
    assert changed.status_code == 303
    row = mapped.scalar(select(Recipient).where(Recipient.key == "partner_co"))
    mapped.refresh(row)
    assert row.reconsent_since is not None and row.purpose_changes[0]["reason"] == "Partners now measure campaigns"
    assert "Partners now measure campaigns" in client.get("/admin/registers/recipients/partner_co", headers=HTML).text


def test_a_share_is_previewed_then_recorded(client: TestClient, officer, mapped: Session, make_subject) -> None:
    from privet.consent.ledger import service as ledger

    token = officer("privacy_officer")
    assert _partner(client, token).status_code == 303
    people = [make_subject() for _ in range(3)]
    for person in people[:2]:
        ledger.record(
            mapped, subject_id=person.id, purpose="sharing.partners", event="given", method="api", actor="test"
        )
    mapped.commit()
    lines = "\n".join([p.id for p in people] + ["0" * 26])
    form = {"csrf_token": token, "recipient": "partner_co", "subjects": lines, "note": "Quarterly offers"}
    before = (_count(mapped, SharingEvent), _count(mapped, AuditEvent))
    preview = client.post("/admin/registers/share", headers=HTML, data={**form, "action": "preview"})
    assert preview.status_code == 200 and "Preview: nothing is recorded yet" in preview.text
    assert 'id="preview-requested">4<' in preview.text and 'id="preview-included">2<' in preview.text
    assert 'id="preview-excluded">2<' in preview.text
    assert "No consent</span>: 1" in preview.text and "Not known to Privet</span>: 1" in preview.text
    assert lines.splitlines()[0] in preview.text  # the input is kept for the record button
    assert (_count(mapped, SharingEvent), _count(mapped, AuditEvent)) == before
    recorded = client.post("/admin/registers/share", headers=HTML, data={**form, "action": "record"})
    assert recorded.status_code == 200 and 'id="recorded-included">2<' in recorded.text
    assert people[0].id in recorded.text and people[2].id not in recorded.text
    assert _count(mapped, SharingEvent) == before[0] + 1
    shared = _audits(mapped, "registers.shared")
    assert shared[-1].details["shared"] == 2 and shared[-1].actor.startswith("user:privacy-officer")
    unregistered = client.post(
        "/admin/registers/share", headers=HTML, data={**form, "recipient": "nobody", "action": "record"}
    )
    assert unregistered.status_code == 422 and "Check “Recipient”" in unregistered.text
    assert _count(mapped, SharingEvent) == before[0] + 1


def test_disclosures_corporate_and_cross_border_transfers_from_their_forms(
    client: TestClient, officer, mapped: Session
) -> None:
    token = officer("privacy_officer")
    counts = (_count(mapped, Disclosure), _count(mapped, CorporateTransfer), _count(mapped, CrossBorderTransfer))
    neither = client.post(
        "/admin/registers/disclose",
        headers=HTML,
        data={"csrf_token": token, "title": "Prize winners", "categories": ["user.name"], "action": "record"},
    )
    assert neither.status_code == 422 and "separate consent from each person or a legal reference" in neither.text
    court = client.post(
        "/admin/registers/disclose",
        headers=HTML,
        data={
            "csrf_token": token,
            "title": "Court-ordered notice",
            "categories": ["user.name"],
            "reference": "Court order (2025) 12",
            "action": "record",
        },
    )
    assert court.status_code == 200 and 'id="recorded"' in court.text
    bad_day = client.post(
        "/admin/registers/corporate",
        headers=HTML,
        data={
            "csrf_token": token,
            "successor": "NewCo",
            "kind": "merger",
            "transfer_date": "soon",
            "binding_statement": "Bound by the policy",
            "bound": "yes",
        },
    )
    assert bad_day.status_code == 422 and "Check “Date the data passes”" in bad_day.text
    assert 'value="NewCo"' in bad_day.text
    merged = client.post(
        "/admin/registers/corporate",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "successor": "NewCo",
            "kind": "merger",
            "transfer_date": "2026-01-01",
            "binding_statement": "NewCo is bound by the policy",
            "bound": "no",
            "subject_count": "12",
        },
    )
    assert merged.status_code == 303 and merged.headers["location"] == "/admin/registers?done=transfer_recorded"
    row = mapped.scalar(select(CorporateTransfer))
    assert row.campaign_kind == "reconsent" and row.campaign_status == "prepared" and row.subject_count == 12
    transfer = {
        "csrf_token": token,
        "destination": "de",
        "recipient": "eu_desk_gmbh",
        "categories": ["user.contact.email"],
        "subject_count": "40",
        "origin": "CN",
        "action": "record",
    }
    no_mechanism = client.post("/admin/crossborder/record", headers=HTML, data=transfer)
    assert no_mechanism.status_code == 422 and "Check “Mechanism”" in no_mechanism.text
    assert 'value="eu_desk_gmbh"' in no_mechanism.text
    assert _count(mapped, CrossBorderTransfer) == counts[2]
    sent = client.post(
        "/admin/crossborder/record",
        headers=HTML,
        follow_redirects=False,
        data={**transfer, "mechanism": "standard_contract"},
    )
    assert sent.status_code == 303
    assert "The cross-border transfer was recorded." in client.get(sent.headers["location"], headers=HTML).text
    assert (_count(mapped, Disclosure), _count(mapped, CorporateTransfer), _count(mapped, CrossBorderTransfer)) == (
        counts[0] + 1,
        counts[1] + 1,
        counts[2] + 1,
    )
    assert mapped.scalar(select(CrossBorderTransfer)).destination == "DE"


WRITES = {
    "/admin/registers/processors": {"key": "mail_vendor", "name": "Mail"},
    "/admin/registers/processors/cloud_host": {"name": "Renamed"},
    "/admin/registers/recipients": {"key": "partner_co", "name": "P", "purposes": ["sharing.partners"]},
    "/admin/registers/policy": {"name": "P", "grounds": ["law_required"]},
    "/admin/registers/share": {"recipient": "partner_co", "subjects": "x", "action": "preview"},
    "/admin/registers/disclose": {"title": "T", "categories": ["user.name"], "reference": "R"},
    "/admin/registers/corporate": {
        "successor": "S",
        "kind": "merger",
        "transfer_date": "2026-01-01",
        "binding_statement": "B",
    },
    "/admin/crossborder/record": {
        "destination": "DE",
        "mechanism": "sccs",
        "recipient": "r",
        "categories": ["user.name"],
        "subject_count": "1",
        "origin": "CN",
    },
}


def test_a_read_only_role_sees_no_forms_and_gets_403_on_every_post(
    client: TestClient, officer, mapped: Session
) -> None:
    token = officer("auditor")
    overview = client.get("/admin/registers", headers=HTML).text
    assert "cloud_host" in overview and 'id="register-actions"' not in overview and "Register it" not in overview
    entry = client.get("/admin/registers/processors/cloud_host", headers=HTML).text
    assert 'id="processor-entry"' in entry and '<form method="post" action="/admin/registers' not in entry
    assert 'id="policy-form"' not in client.get("/admin/registers/policy", headers=HTML).text
    assert 'id="record-crossborder"' not in client.get("/admin/crossborder", headers=HTML).text
    for path in ("/admin/registers/add/processor", "/admin/registers/share", "/admin/crossborder/record"):
        assert client.get(path, headers=HTML).status_code == 403
    before = [
        _count(mapped, m)
        for m in (
            Processor,
            Recipient,
            RegisterPolicy,
            SharingEvent,
            Disclosure,
            CorporateTransfer,
            CrossBorderTransfer,
            AuditEvent,
        )
    ]
    for path, data in WRITES.items():
        answer = client.post(path, headers=HTML, data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
    assert [
        _count(mapped, m)
        for m in (
            Processor,
            Recipient,
            RegisterPolicy,
            SharingEvent,
            Disclosure,
            CorporateTransfer,
            CrossBorderTransfer,
            AuditEvent,
        )
    ] == before


FORM_PAGES = (
    "/admin/registers/add/processor",
    "/admin/registers/processors/cloud_host",
    "/admin/registers/add/recipient",
    "/admin/registers/policy",
    "/admin/registers/share",
    "/admin/registers/disclose",
    "/admin/registers/corporate",
    "/admin/crossborder/record",
)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_form_page_renders_without_taxonomy_keys_on_show(
    client: TestClient, officer, mapped: Session, lang: str
) -> None:
    token = officer("privacy_officer")
    assert _partner(client, token).status_code == 303  # the share form lists it
    for path in FORM_PAGES:
        answer = client.get(f"{path}?lang={lang}", headers=HTML)
        assert answer.status_code == 200, (path, answer.text[-1500:])
        assert 'name="csrf_token"' in answer.text and ">user.contact.email<" not in answer.text.replace("&nbsp;", "")


def test_the_forms_speak_chinese_with_the_taxonomy_s_names(client: TestClient, officer, mapped: Session) -> None:
    token = officer("privacy_officer")
    form = client.get("/admin/registers/add/processor?lang=zh_CN&key=mail_vendor", headers=HTML).text
    visible = form.replace("&nbsp;", "")
    assert "登记受托人" in visible and ">电子邮件地址<" in visible and ">user.contact.email<" not in visible
    refused = client.post(
        "/admin/registers/processors",
        headers=HTML,
        data={
            "csrf_token": token,
            "key": "mail_vendor",
            "name": "邮件服务",
            "agreement_ref": "DPA-9",
            "signed_on": "2025-02-01",
            "expires_on": "2024-01-31",
        },
    )
    assert refused.status_code == 422 and "未保存，没有任何更改。请检查“协议到期日”" in refused.text
    assert 'value="邮件服务"' in refused.text
    disclose = client.get("/admin/registers/disclose", headers=HTML).text
    assert "预览将包括哪些人" in disclose and "记录公开披露" in disclose


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_officer_fixes_a_processor_alert_in_the_browser(page, site, lang: str) -> None:
    from playwright.sync_api import expect

    from privet.db.engine import begin_write
    from privet.registers import processors
    from tests.web.admin.test_browser import log_in

    key = f"vendor_{fake.unique.pyint(10_000, 99_999)}"
    with site.session() as session:
        begin_write(session)  # the served app writes too: queue for SQLite's write lock first
        processors.add_processor(
            session,
            key=key,
            name=f"{fake.company()} (test)",
            actor="test",
            agreement_ref="OLD-1",
            signed_on=date(2019, 1, 1),
            expires_on=date(2020, 1, 1),
        )
        session.commit()
    words = {
        "en": (
            "Edit the entry",
            "Agreement reference",
            "Signed on",
            "Expires on",
            "Save the processor",
            "The processor's entry was saved.",
        ),
        "zh_CN": ("编辑此条目", "协议编号", "签署日", "到期日", "保存受托人", "受托人条目已保存。"),
    }[lang]
    log_in(page, site, "privacy_officer", "/admin/registers")
    page.goto(f"/admin/registers?lang={lang}")
    row = page.locator("#processor-alerts tr", has_text=key)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=words[0]).click()
    page.wait_for_url(f"**/admin/registers/processors/{key}")
    page.get_by_label(words[1]).fill(f"DPA-{key}")
    page.get_by_label(words[2]).fill("2025-06-01")
    page.get_by_label(words[3]).fill("2030-05-31")
    page.get_by_role("button", name=words[4]).click()
    page.wait_for_url("**/admin/registers?done=processor_saved")
    expect(page.get_by_role("status")).to_have_text(words[5])
    expect(page.locator("#processor-alerts tr", has_text=key)).to_have_count(0)
