"""`privet registers ...` on a real store: each register, alerts, a bulk share from a file, refusals (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faker import Faker

from privet.db.engine import make_engine
from privet.tables import metadata
from tests.consent.conftest import KEPTEK


@pytest.fixture
def store(privet, cli_store: str):
    """A migrated store with the register tables (until their migration lands) and the Keptek data map."""
    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    result = privet("datamap", "apply", str(KEPTEK))
    assert result.exit_code == 0, result.output
    return privet


def test_processors_and_alerts(store) -> None:
    added = store(
        "registers",
        "processor-add",
        "sms_gateway",
        "--name",
        "SMS gateway",
        "--agreement",
        "DPA-1",
        "--signed",
        "2025-01-01",
        "--expires",
        "2099-01-01",
        "--purpose",
        "sharing.processors",
        "--category",
        "user.contact.phone",
        "--region",
        "CN",
        "--measure",
        "TLS",
    )
    assert added.exit_code == 0, added.output
    listed = store("registers", "processors")
    assert listed.exit_code == 0 and "sms_gateway" in listed.output and "DPA-1" in listed.output
    again = store("registers", "processor-add", "sms_gateway", "--name", "SMS gateway")
    assert again.exit_code == 2 and "already registered" in again.output
    alerts = store("registers", "alerts", "--days", "30")
    assert alerts.exit_code == 1 and "email_service_provider" in alerts.output and "unregistered" in alerts.output
    assert "out_of_scope" in alerts.output
    for key in (
        "customer_support_vendor",
        "email_service_provider",
        "sms_gateway",
        "cloud_host",
        "payment_provider",
        "courier",
    ):
        assert (
            store(
                "registers",
                "processor-add",
                key,
                "--name",
                key,
                "--agreement",
                "DPA-2",
                "--signed",
                "2025-01-01",
                "--expires",
                "2099-01-01",
                "--replace",
            ).exit_code
            == 0
        )
    left = store("registers", "alerts", "--json")
    assert left.exit_code == 1 and {a["entry"] for a in json.loads(left.output)} == {"recipient"}
    applied = store("registers", "apply", str(KEPTEK.parent / "registers.yaml"))
    assert applied.exit_code == 0 and "+ recipients.courts" in applied.output, applied.output
    clean = store("registers", "alerts")
    assert clean.exit_code == 0 and "no processor or recipient alerts" in clean.output, clean.output


def test_share_disclose_and_transfer(store, faker_multi: Faker, tmp_path: Path) -> None:
    emails = [faker_multi.unique.email() for _ in range(3)]
    for email in emails:
        assert (
            store(
                "consent", "grant", "--type", "email", "--value", email, "--purpose", "marketing.communications"
            ).exit_code
            == 0
        )
    assert (
        store("consent", "grant", "--type", "email", "--value", emails[0], "--purpose", "sharing.affiliates").exit_code
        == 0
    )
    added = store(
        "registers",
        "recipient-add",
        "keptek_affiliates",
        "--name",
        "Keptek affiliates",
        "--kind",
        "affiliate",
        "--purpose",
        "sharing.affiliates",
        "--category",
        "user.name",
        "--region",
        "CN",
    )
    assert added.exit_code == 0, added.output
    assert "keptek_affiliates" in store("registers", "recipients").output
    people = tmp_path / "people.csv"
    people.write_text("".join(f"email,{e}\n" for e in emails), encoding="utf-8")
    allowed = tmp_path / "allowed.txt"
    shared = store("registers", "share", "keptek_affiliates", "--file", str(people), "-o", str(allowed))
    assert shared.exit_code == 0, shared.output
    assert "requested 3, shared 1, filtered out 2 (NO_CONSENT 2)" in shared.output
    assert len(allowed.read_text().split()) == 1 and not any(e in shared.output for e in emails)
    refused = store("registers", "share", "data_broker", "--file", str(people))
    assert refused.exit_code == 2 and "not registered" in refused.output
    listed = store("registers", "shares")
    assert listed.exit_code == 0 and listed.output.count("keptek_affiliates") == 1
    changed = store("registers", "recipient-purpose", "keptek_affiliates", "--purpose", "sharing.partners")
    assert changed.exit_code == 0 and "re-consent required" in changed.output
    no_ground = store("registers", "disclose", "--title", "Directory", "--category", "user.name")
    assert no_ground.exit_code == 2 and "legal reference" in no_ground.output
    disclosed = store(
        "registers",
        "disclose",
        "--title",
        "Court notice",
        "--category",
        "user.name",
        "--ground",
        "judicial_procedure",
        "--reference",
        "Case 17",
    )
    assert disclosed.exit_code == 0 and "(legal_ground)" in disclosed.output
    assert "Court notice" in store("registers", "disclosures").output
    moved = store(
        "registers",
        "corporate-transfer",
        "--successor",
        "Keptek Holdings",
        "--kind",
        "merger",
        "--date",
        "2026-12-31",
        "--binding",
        "Bound by this Privacy Policy.",
        "--category",
        "user.name",
    )
    assert moved.exit_code == 0 and "notification campaign prepared for 3 subjects" in moved.output
    listed = store("registers", "corporate-transfers")
    assert "Keptek Holdings" in listed.output and "prepared" in listed.output
    transfer_id = moved.output.split()[2]
    sent = store("registers", "campaign-sent", transfer_id)
    assert sent.exit_code == 0 and "recorded as sent (3 subjects)" in sent.output
    assert "judicial_procedure" in store("registers", "grounds").output
