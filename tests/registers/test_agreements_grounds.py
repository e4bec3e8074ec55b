"""Recipients' agreements with their alerts (P38) and the policy's grounds as codes (P39), on SQLite and PostgreSQL:
every ground of both seed policies has a code and its policy reference; a share, disclosure or recipient on a ground
the company's policy does not declare is refused with a clear error and writes nothing; registers files with a
history are checked before anything is applied."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.errors import InvalidInput
from privet.registers import alerts, config, disclosures, grounds, policy, sharing
from privet.registers.models import Disclosure, Recipient, SharingEvent

pytestmark = pytest.mark.usefixtures("keptek")
TODAY = date(2026, 6, 1)


def _count(db: Session, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _partner(db: Session, **agreement) -> Recipient:
    return sharing.add_recipient(
        db,
        key="partners",
        name="Certified partners",
        kind="partner",
        purposes=["sharing.partners"],
        categories=["user.name"],
        actor="test",
        **agreement,
    )


def _kinds(db: Session, key: str, days: int = 30) -> list[str]:
    return [a.kind for a in alerts.recipient_alerts(db, days=days, today=TODAY) if a.key == key]


@pytest.mark.promise("P38")
def test_recipient_agreement_alerts_missing_expiring_expired(db: Session) -> None:
    _partner(db)
    assert _kinds(db, "partners") == ["no_agreement"]
    _partner(
        db,
        agreement_ref="PSA-1",
        signed_on=TODAY - timedelta(days=400),
        expires_on=TODAY - timedelta(days=1),
        replace=True,
    )
    expired = [a for a in alerts.recipient_alerts(db, today=TODAY) if a.key == "partners"]
    assert [a.kind for a in expired] == ["expired"] and expired[0].entry == "recipient"
    assert "expired on" in expired[0].message and expired[0].days_left == -1
    _partner(
        db,
        agreement_ref="PSA-1",
        signed_on=TODAY - timedelta(days=400),
        expires_on=TODAY + timedelta(days=10),
        replace=True,
    )
    assert _kinds(db, "partners") == ["expiring"] and _kinds(db, "partners", days=5) == []
    _partner(db, agreement_ref="PSA-2", signed_on=TODAY, expires_on=TODAY + timedelta(days=1000), replace=True)
    assert _kinds(db, "partners") == []
    actions = db.execute(select(AuditEvent.action).where(AuditEvent.object_type == "recipient")).scalars().all()
    assert actions.count("registers.recipient.updated") == 3  # every renewal audited


@pytest.mark.promise("P38")
def test_an_authority_needs_no_agreement_but_an_affiliate_does(db: Session) -> None:
    sharing.add_recipient(
        db,
        key="courts",
        name="Courts",
        kind="authority",
        purposes=["sharing.authorities"],
        legal_grounds=["judicial_procedure"],
        actor="test",
    )
    sharing.add_recipient(
        db, key="affiliates", name="Affiliates", kind="affiliate", purposes=["sharing.affiliates"], actor="test"
    )
    assert _kinds(db, "courts") == [] and _kinds(db, "affiliates") == ["no_agreement"]


@pytest.mark.promise("P38")
@pytest.mark.parametrize(
    "agreement",
    [
        {"signed_on": TODAY, "expires_on": TODAY + timedelta(days=10)},  # dates without a reference
        {"agreement_ref": "PSA-1", "signed_on": TODAY, "expires_on": TODAY - timedelta(days=1)},  # expires before
    ],
)
def test_bad_agreements_are_refused_and_change_nothing(db: Session, agreement: dict) -> None:
    with pytest.raises(InvalidInput):
        _partner(db, **agreement)
    assert _count(db, Recipient) == 0


@pytest.mark.promise("P39")
def test_every_ground_of_both_seed_policies_is_a_code_with_its_reference() -> None:
    keptek = {c: grounds.reference_of(c) for c in grounds.of_policy("keptek")}
    assert keptek == {
        **{f"keptek_{x.lower()}": f"Keptek privacy policy 3(3)2 {x}" for x in "ABCDEF"},
        "keptek_disclosure": "Keptek privacy policy 3(5)2",
    }
    zkteco = {c: grounds.reference_of(c) for c in grounds.of_policy("zkteco")}
    assert zkteco == {f"zkteco_{x}": f"ZKTeco privacy protection policy 4 {x}" for x in "abcde"}
    for code in [*keptek, *zkteco]:
        ground = grounds.get(code)
        assert ground.en and ground.zh_CN and ground.asks  # both languages, and what its reference names
    # the grounds the issue names: D (purposes of collection), E (rights and safety), F (law or policy), Z4 e
    assert "purposes for collecting" in grounds.label("keptek_d")
    assert "affiliates or partners" in grounds.label("keptek_e") and "安全" in grounds.label("keptek_e", "zh_CN")
    assert "agreed upon in the policy" in grounds.label("keptek_f")
    assert "anti-fraud" in grounds.label("zkteco_e") and "management" in grounds.label("zkteco_e")


def _declare(db: Session, company: str) -> None:
    policy.declare(db, name=f"{company} policy (test)", codes=grounds.of_policy(company), actor="test")


@pytest.mark.promise("P39")
def test_a_share_on_a_ground_the_policy_does_not_declare_is_refused_and_writes_nothing(
    db: Session, make_subject
) -> None:
    _declare(db, "keptek")
    sharing.add_recipient(
        db,
        key="police",
        name="Police",
        kind="authority",
        purposes=["sharing.authorities"],
        legal_grounds=["keptek_a", "keptek_c"],
        actor="test",
    )
    person = make_subject()
    events_before = _count(db, AuditEvent)
    for code in ("zkteco_c", "law_required"):  # another company's ground; the law's, which Keptek does not list
        with pytest.raises(InvalidInput) as refused:
            sharing.share(
                db, recipient="police", subject_ids=[person.id], legal_ground=code, reference="Letter 1", actor="test"
            )
        assert "policy has no ground" in refused.value.detail and "nothing was shared" in refused.value.detail
        assert "keptek_a" in refused.value.hint  # says which grounds the policy does have
    with pytest.raises(InvalidInput):  # a ground of the policy, but not the recipient's
        sharing.share(
            db, recipient="police", subject_ids=[person.id], legal_ground="keptek_b", reference="x", actor="test"
        )
    with pytest.raises(InvalidInput) as unreferenced:  # a ground needs its reference
        sharing.share(db, recipient="police", subject_ids=[person.id], legal_ground="keptek_c", actor="test")
    assert "reference" in unreferenced.value.detail
    assert _count(db, SharingEvent) == 0 and _count(db, AuditEvent) == events_before
    done = sharing.share(
        db,
        recipient="police",
        subject_ids=[person.id],
        legal_ground="keptek_c",
        reference="Cyberspace administration letter 2026-01 (test)",
        actor="test",
    )
    assert (done.event.basis, done.event.legal_ground, done.event.shared) == ("legal_ground", "keptek_c", 1)


@pytest.mark.promise("P39")
def test_a_disclosure_on_an_undeclared_ground_is_refused(db: Session) -> None:
    _declare(db, "zkteco")  # ZKTeco's policy has no ground for public disclosure
    with pytest.raises(InvalidInput) as refused:
        disclosures.disclose(
            db,
            title="Notice",
            categories=["user.name"],
            legal_ground="keptek_disclosure",
            reference="Court order",
            actor="test",
        )
    assert "policy has no ground" in refused.value.detail
    with pytest.raises(InvalidInput):  # a ground of the policy, but written for shares only
        disclosures.disclose(
            db, title="Notice", categories=["user.name"], legal_ground="zkteco_c", reference="Court order", actor="test"
        )
    assert _count(db, Disclosure) == 0
    _declare(db, "keptek")
    made = disclosures.disclose(db, title="Notice", categories=["user.name"], reference="Court order", actor="test")
    assert made.event.legal_ground == "keptek_disclosure"  # the policy's disclosure ground by default


@pytest.mark.promise("P39")
def test_recipients_on_undeclared_grounds_are_refused_and_a_narrowed_policy_alerts(db: Session) -> None:
    _declare(db, "keptek")
    with pytest.raises(InvalidInput) as refused:
        sharing.add_recipient(
            db,
            key="auditors",
            name="Auditors",
            purposes=["sharing.authorities"],
            legal_grounds=["zkteco_e"],
            actor="test",
        )
    assert refused.value.problems[0].where == "legal_grounds.0"
    sharing.add_recipient(
        db,
        key="police",
        name="Police",
        kind="authority",
        purposes=["sharing.authorities"],
        legal_grounds=["keptek_e"],
        actor="test",
    )
    policy.declare(db, name="Keptek policy, narrowed (test)", codes=["keptek_a", "keptek_b"], actor="test")
    found = [a for a in alerts.recipient_alerts(db, today=TODAY) if a.key == "police"]
    assert [a.kind for a in found] == ["ground_not_in_policy"] and "3(3)2 E" in found[0].message


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "registers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.promise("P39")
def test_a_registers_file_with_an_undeclared_ground_applies_nothing(db: Session, tmp_path: Path, ring) -> None:
    path = _write(
        tmp_path,
        """
policy: {name: Keptek (test), grounds: [keptek_a, keptek_d]}
recipients:
  - key: affiliates
    name: Affiliates
    kind: affiliate
    purposes: [sharing.affiliates]
    grounds: [keptek_d]
    agreement: {reference: IGA-1, signed: 2026-01-01, expires: 2030-01-01}
  - key: auditors
    name: Auditors
    purposes: [sharing.authorities]
    grounds: [zkteco_e]
""",
    )
    with pytest.raises(InvalidInput) as refused:
        config.apply_file(db, path, actor="test", keyring=ring)
    assert "nothing was applied" in refused.value.detail
    assert refused.value.problems[0].where.startswith(f"{path}:10 (recipients[1].legal_grounds.0)")  # its line
    # the caller's unit of work rolls back: the policy and first recipient went with it (checked by the CLI test)


@pytest.mark.promise("P38")
@pytest.mark.parametrize(
    "step, message",
    [
        (
            "- {consent: {people: 1, purpose: sharing.affiliates}, share: {recipient: affiliates, people: 1}}",
            "exactly one of",
        ),
        ("- {share: {recipient: affiliates, people: 0}}", "greater than or equal to 1"),
        ("- {dance: {}}", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_history_step_is_refused_before_anything_is_applied(
    db: Session, tmp_path: Path, step: str, message: str
) -> None:
    path = _write(tmp_path, f"history:\n  {step}\n")
    with pytest.raises(InvalidInput) as refused:
        config.load(path)
    assert any(message in p.message for p in refused.value.problems), refused.value.problems
    assert refused.value.problems[0].where.startswith(f"{path}:2")


@pytest.mark.promise("P38")
def test_history_share_on_an_undeclared_ground_is_refused(db: Session, tmp_path: Path, ring) -> None:
    path = _write(
        tmp_path,
        """
policy: {name: Keptek (test), grounds: [keptek_a]}
recipients:
  - {key: police, name: Police, kind: authority, purposes: [sharing.authorities], grounds: [keptek_a]}
history:
  - share: {recipient: police, people: 1, ground: keptek_c, reference: Letter}
""",
    )
    with pytest.raises(InvalidInput) as refused:
        config.apply_file(db, path, actor="test", keyring=ring)
    assert refused.value.detail.startswith("history:") and "nothing was applied" in refused.value.detail
