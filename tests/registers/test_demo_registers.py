"""Both demo companies configure the registers (P9, P38, P39): after loading each demo into a fresh store,
`privet registers alerts` reports nothing, every recipient other than an authority carries a signed agreement, the
company's policy declares its own grounds, and the history shows bulk shares, a public disclosure (Keptek) and a
recipient's purpose change whose re-consent is seen working. Loading again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from privet.demo.service import load_demo
from privet.registers import alerts, grounds, policy, sharing
from privet.registers.models import Disclosure, SharingEvent
from privet.settings import Settings
from tests.demo.test_service import store  # noqa: F401 - a fresh store of each kind, the demo commits into it

pytestmark = [pytest.mark.promise("P38"), pytest.mark.promise("P39"), pytest.mark.promise("P9")]


def _shares(session: Session, recipient: str) -> list[SharingEvent]:
    return [e for e, _ in reversed(sharing.list_shares(session, recipient=recipient))]  # oldest first


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_a_loaded_demo_has_no_register_alerts(settings: Settings, store: Engine, company: str) -> None:
    summary = load_demo(settings, store, company, customers=12)
    assert "history:" in summary
    with Session(store) as session:
        assert alerts.all_alerts(session) == []
        assert policy.declared(session) == grounds.of_policy(company)  # every ground of the company's own policy
        recipients = sharing.list_recipients(session)
        assert {r.kind for r in recipients} >= {"affiliate", "partner", "authority"}
        for r in recipients:
            bound = r.kind != "authority"
            assert bool(r.agreement_ref and r.signed_on and r.expires_on) == bound, r.key
            assert r.legal_grounds and set(r.legal_grounds) <= set(grounds.of_policy(company))


def test_keptek_history_shows_shares_a_disclosure_and_re_consent(settings: Settings, store: Engine) -> None:
    load_demo(settings, store, "keptek", customers=12)
    with Session(store) as session:
        partners = _shares(session, "certified_partners")
        assert [(e.requested, e.shared) for e in partners] == [(8, 6), (8, 0), (8, 3)]
        assert partners[1].reasons == {"NO_CONSENT": 2, "RECONSENT_REQUIRED": 6}  # the purpose change at work
        assert partners[2].reasons == {"NO_CONSENT": 2, "RECONSENT_REQUIRED": 3}
        recipient = sharing.get_recipient(session, "certified_partners")
        assert recipient.reconsent_since is not None and recipient.purposes == [
            "sharing.partners",
            "service.after_sales",
        ]
        [court] = _shares(session, "courts")
        assert (court.basis, court.legal_ground, court.shared) == ("legal_ground", "keptek_b", 2)
        [notice] = session.execute(select(Disclosure)).scalars().all()
        assert (notice.legal_ground, notice.disclosed, notice.categories) == ("keptek_disclosure", 1, ["user.name"])
    again = load_demo(settings, store, "keptek", customers=12)  # loaded again: nothing replayed or changed
    assert "Registers unchanged." in again
    with Session(store) as session:
        assert len(_shares(session, "certified_partners")) == 3 and alerts.all_alerts(session) == []


def test_zkteco_history_shows_shares_and_re_consent(settings: Settings, store: Engine) -> None:
    load_demo(settings, store, "zkteco", customers=12)
    with Session(store) as session:
        branches = _shares(session, "zkteco_branches_and_subsidiaries")
        assert [e.shared for e in branches] == [5, 0, 2]
        assert branches[1].reasons["RECONSENT_REQUIRED"] == 5
        [audit] = _shares(session, "auditors")
        assert (audit.legal_ground, audit.shared) == ("zkteco_e", 3)


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_privet_init_demo_then_registers_alerts_reports_nothing(privet, company: str) -> None:
    loaded = privet("init", "--demo", "--company", company)
    assert loaded.exit_code == 0, loaded.output
    answer = privet("registers", "alerts")
    assert answer.exit_code == 0 and "no processor or recipient alerts" in answer.output
