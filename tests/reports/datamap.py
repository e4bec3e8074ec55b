"""A small data map for the records, impact assessment, cross-border and incident tests.

Seven activities: two need no impact assessment (orders, analytics); each other one has exactly one trigger.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

DATAMAP = """\
organisation:
  key: acme
  name: Acme Devices
  profile: pipl
  region: CN
  responsible:
    name: Personal Information Protection Officer
    email: privacy@acme.example
    phone: "+86 10 5555 0100"
systems:
  - key: app
    name: Customer app
datastores:
  - key: app_db
    system: app
    kind: manual
    region: CN
  - key: eu_desk
    system: app
    kind: manual
    region: DE
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: customers
        retention: {duration: P2Y, trigger: account_closure, column: closed_at}
        fields:
          - {name: id, category: user.account.user_id, identity: user_id}
          - {name: name, category: user.name}
          - {name: closed_at}
  - key: support_eu
    datastore: eu_desk
    tables:
      - name: tickets
        fields:
          - {name: email, category: user.contact.email}
processing_activities:
  - key: orders
    name: Orders and delivery
    purpose: service.order
    legal_basis: contract
    required_categories: [user.name, user.contact.address]
    subject_types: [customer]
    datasets: [app]
    storage_locations: [CN]
    retention: {duration: P3Y, trigger: account_closure}
  - key: analytics
    name: Usage analytics
    purpose: analytics.usage
    legal_basis: consent
    required_categories: [user.device.ip_address]
    subject_types: [customer]
    datasets: [app]
  - key: newsletter
    name: Newsletter
    purpose: marketing.communications
    legal_basis: consent
    required_categories: [user.contact.email]
    subject_types: [customer, prospect]
    processors: [mail_vendor]
    datasets: [app]
  - key: face_login
    name: Face login
    purpose: security.identity_verification
    legal_basis: separate_consent
    required_categories: [user.biometric.face]
    subject_types: [customer]
    datasets: [app]
  - key: partner_offers
    name: Offers from partners
    purpose: sharing.partners
    legal_basis: consent
    required_categories: [user.name]
    recipients: [partner_co]
    datasets: [app]
  - key: winners
    name: Prize winners list
    purpose: sharing.public_disclosure
    legal_basis: separate_consent
    required_categories: [user.name]
    datasets: [app]
  - key: global_support
    name: Support from the EU desk
    purpose: service.support
    legal_basis: consent
    required_categories: [user.contact.email, user.name]
    subject_types: [customer]
    datasets: [support_eu]
    storage_locations: [CN, DE]
    transfers:
      - {destination: DE, mechanism: standard_contract, recipient: eu_desk_gmbh}
"""

ACTIVITIES = ("orders", "analytics", "newsletter", "face_login", "partner_offers", "winners", "global_support")
PIA_TRIGGERS = {
    "newsletter": ["processor"],
    "face_login": ["sensitive_data"],
    "partner_offers": ["sharing"],
    "winners": ["public_disclosure"],
    "global_support": ["cross_border"],
}


def write_datamap(folder: Path) -> Path:
    """The data map as one YAML file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "datamap.yaml"
    path.write_text(DATAMAP, encoding="utf-8")
    return path


def apply_datamap(session: Session, folder: Path) -> None:
    """Apply the data map in the test's transaction."""
    from privet.datamap.service import validate_and_apply

    validate_and_apply(session, write_datamap(folder), actor="test")
    session.flush()
