"""A small CRM-like company's data map, written as YAML so tests can point at exact lines."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from privet.datamap.schemas import Manifest

ORGANISATION = """\
organisation:
  key: acme
  name: Acme Trading
  profile: pipl
  region: CN
  responsible:
    name: Personal Information Protection Officer
"""

SYSTEMS = """\
systems:
  - key: crm
    name: CRM
    owner: sales
datastores:
  - key: crm_db
    system: crm
    kind: postgresql
    region: CN
    secret: crm_db
  - key: mail_db
    system: crm
    kind: mysql
    region: US
    secret: mail_db
"""

DATASETS = """\
datasets:
  - key: crm
    datastore: crm_db
    tables:
      - name: organisations
        primary_key: [id]
        erasure: {action: retain, reason: signed contracts, duration: P5Y}
        timestamps: {account_closure: ended_at, accounting_period_end: ended_at}
        fields:
          - {name: id}
          - {name: name, category: user.organisation.name}
          - {name: ended_at}
      - name: customers
        primary_key: [id]
        erasure: {action: delete_row}
        timestamps: {account_closure: closed_at, accounting_period_end: closed_at}
        fields:
          - {name: id, category: user.account.user_id, identity: user_id, indexed: true}
          - {name: organisation_id, references: organisations.id, relation: owns}
          - {name: name, category: user.name}
          - {name: email, category: user.contact.email, identity: email, indexed: true}
          - {name: phone, category: user.contact.phone, identity: phone, indexed: true}
          - {name: closed_at}
      - name: addresses
        primary_key: [id]
        timestamps: {account_closure: customer_id.closed_at, accounting_period_end: customer_id.closed_at}
        fields:
          - {name: id}
          - {name: customer_id, references: customers.id}
          - {name: street, category: user.contact.address, erasure: {action: mask}}
  - key: mailing
    datastore: mail_db
    tables:
      - name: subscribers
        primary_key: [id]
        erasure: {action: delete_row}
        timestamps: {consent_withdrawal: unsubscribed_at}
        fields:
          - {name: id}
          - {name: customer_id, references: crm.customers.id}
          - {name: email, category: user.contact.email, identity: email, indexed: true}
          - {name: unsubscribed_at}
"""

ACTIVITIES = """\
processing_activities:
  - key: customer_service
    name: Customer service
    purpose: service.support
    legal_basis: contract
    required_categories: [user.name, user.contact, user.account.user_id, user.organisation.name]
    subject_types: [customer]
    datasets: [crm]
    retention: {trigger: account_closure, duration: P3Y}
  - key: marketing_emails
    name: Marketing e-mails
    purpose: marketing.communications.email
    legal_basis: consent
    required_categories: [user.contact.email]
    subject_types: [customer, prospect]
    datasets: [mailing]
    retention: {trigger: consent_withdrawal, duration: P30D}
    transfers: [{destination: US, mechanism: standard_contract}]
  - key: accounting
    name: Accounting
    purpose: legal.accounting
    legal_basis: legal_obligation
    required_categories: [user.name, user.organisation.name]
    optional_categories: [user.contact, user.account.user_id]
    subject_types: [customer]
    datasets: [crm]
    retention: {trigger: accounting_period_end, duration: P10Y}
"""

CRM_YAML = ORGANISATION + SYSTEMS + DATASETS + ACTIVITIES
FILES = {
    "organisation.yaml": ORGANISATION,
    "systems.yaml": SYSTEMS,
    "data/datasets.yml": DATASETS,
    "data/activities.yaml": ACTIVITIES,
}


def crm_doc() -> dict[str, Any]:
    """The CRM manifest as a plain dict (a fresh copy each time, safe to change)."""
    return copy.deepcopy(yaml.safe_load(CRM_YAML))


def crm_manifest(**changes: Any) -> Manifest:
    """The CRM manifest, with top-level sections replaced by `changes`."""
    return Manifest.model_validate({**crm_doc(), **changes})


def write_folder(root: Path, files: dict[str, str] | None = None) -> Path:
    """Write manifest files under `root` and return it."""
    for name, text in (files or FILES).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def line_of_text(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle` (so tests do not hard-code numbers)."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[occurrence - 1]
