"""The data map rules: each fires on the map that breaks it, and a clean map passes."""

from __future__ import annotations

import pytest

from privet.datamap.evaluate import evaluate
from privet.taxonomy.loader import default_taxonomy
from tests.datamap.factories import crm_doc, crm_manifest


def _findings(doc: dict) -> list:
    return evaluate(crm_manifest(**doc), default_taxonomy())


def _activity(doc: dict, key: str) -> dict:
    return next(a for a in doc["processing_activities"] if a["key"] == key)


def _field(doc: dict, dataset: str, table: str, name: str) -> dict:
    ds = next(d for d in doc["datasets"] if d["key"] == dataset)
    return next(f for f in next(t for t in ds["tables"] if t["name"] == table)["fields"] if f["name"] == name)


def test_clean_map_has_no_findings() -> None:
    assert evaluate(crm_manifest(), default_taxonomy()) == []


def test_sensitive_category_declared_without_separate_consent() -> None:
    doc = crm_doc()
    _activity(doc, "marketing_emails")["optional_categories"] = ["user.location.track"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("PIPL-SENSITIVE-SEPARATE-CONSENT", "error", "processing_activities.marketing_emails")
    assert "user.location.track" in finding.message
    _activity(doc, "marketing_emails")["legal_basis"] = "separate_consent"
    assert _findings(doc) == []


def test_sensitive_category_only_in_the_dataset_fields() -> None:
    doc = crm_doc()
    _field(doc, "crm", "customers", "phone")["category"] = "user.government_id.national_id"
    rules = {(f.rule, f.object) for f in _findings(doc)}
    assert ("PIPL-SENSITIVE-SEPARATE-CONSENT", "processing_activities.customer_service") in rules
    assert ("PIPL-SENSITIVE-SEPARATE-CONSENT", "processing_activities.accounting") in rules


def test_sensitive_rule_applies_only_under_pipl() -> None:
    doc = crm_doc()
    doc["organisation"]["profile"] = "gdpr"
    _activity(doc, "marketing_emails")["optional_categories"] = ["user.location.track"]
    assert _findings(doc) == []


def test_marketing_on_contract_basis() -> None:
    doc = crm_doc()
    _activity(doc, "marketing_emails")["legal_basis"] = "contract"
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity) == ("MARKETING-ON-CONTRACT", "error")


def test_activity_without_retention() -> None:
    doc = crm_doc()
    del _activity(doc, "accounting")["retention"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.object) == ("RETENTION-MISSING", "processing_activities.accounting")


@pytest.mark.parametrize("transfers", [[], [{"destination": "US"}], [{"destination": "DE",
                                                                         "mechanism": "standard_contract"}]])
def test_datastore_outside_the_region_needs_a_transfer_mechanism(transfers: list) -> None:
    doc = crm_doc()
    _activity(doc, "marketing_emails")["transfers"] = transfers
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity) == ("TRANSFER-WITHOUT-MECHANISM", "error")
    assert "US" in finding.message and "CN" in finding.message


def test_undeclared_category_is_an_error_in_an_exclusive_dataset() -> None:
    doc = crm_doc()
    _field(doc, "mailing", "subscribers", "id")["category"] = "user.device.ip_address"
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("UNDECLARED-CATEGORY", "error", "processing_activities.marketing_emails")
    assert "user.device.ip_address" in finding.message


def test_undeclared_category_is_a_warning_in_a_shared_dataset() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["optional_categories"] = ["user.contact.address"]
    findings = _findings(doc)
    assert {(f.rule, f.severity) for f in findings} == {("UNDECLARED-CATEGORY", "warning")}
    assert {f.message.split("`")[3] for f in findings} == {"user.account.user_id", "user.contact.email",
                                                           "user.contact.phone"}


def test_identity_field_not_indexed_is_a_warning() -> None:
    doc = crm_doc()
    _field(doc, "crm", "customers", "phone")["indexed"] = False
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("IDENTITY-NOT-INDEXED", "warning", "datasets.crm.customers.phone")
    assert "is not indexed" in finding.message


def test_identity_field_with_unknown_index_is_a_warning_too() -> None:
    doc = crm_doc()
    del _field(doc, "mailing", "subscribers", "email")["indexed"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("IDENTITY-NOT-INDEXED", "warning", "datasets.mailing.subscribers.email")
    assert "not known to be indexed" in finding.message
    assert "privet datamap scaffold" in finding.hint and "indexed: true" in finding.hint


def test_datastore_without_dataset_is_a_warning() -> None:
    doc = crm_doc()
    doc["datastores"].append({"key": "old_db", "system": "crm", "kind": "manual", "region": "CN"})
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("DATASTORE-WITHOUT-DATASET", "warning", "datastores.old_db")


def test_storage_location_outside_the_region_needs_a_transfer_mechanism() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["storage_locations"] = ["CN", "SG"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == \
        ("TRANSFER-WITHOUT-MECHANISM", "error", "processing_activities.accounting")
    assert "SG" in finding.message and "storage location" in finding.message
    _activity(doc, "accounting")["transfers"] = [{"destination": "SG"}]  # no mechanism: still not covered
    assert [f.rule for f in _findings(doc)] == ["TRANSFER-WITHOUT-MECHANISM"]
    _activity(doc, "accounting")["transfers"] = [{"destination": "SG", "mechanism": "standard_contract"}]
    assert _findings(doc) == []


def test_storage_location_in_a_subdivision_of_the_region_is_domestic() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["storage_locations"] = ["CN-GD"]
    assert _findings(doc) == []


@pytest.mark.parametrize(("store", "destination", "covered"), [
    ("DE", "EU", True), ("IE", "EEA", True), ("EU", "EEA", True), ("NO", "EEA", True), ("NO", "EU", False),
    ("EU", "DE", False), ("FR", "DE", False), ("DE", "GLOBAL", True), ("US", "EU", False),
])
def test_eu_member_states_lie_within_eu_and_eea_transfers(store: str, destination: str, covered: bool) -> None:
    doc = crm_doc()
    doc["datastores"][1]["region"] = store
    _activity(doc, "marketing_emails")["transfers"] = [{"destination": destination, "mechanism": "sccs"}]
    assert [f.rule for f in _findings(doc)] == ([] if covered else ["TRANSFER-WITHOUT-MECHANISM"])


@pytest.mark.parametrize(("home", "store", "domestic"), [
    ("EU", "DE", True), ("DE", "FR", True), ("EEA", "NL", True), ("DE", "NO", True), ("DE", "US", False),
    ("CN", "DE", False),
])
def test_eu_member_states_are_inside_an_eu_organisation_region(home: str, store: str, domestic: bool) -> None:
    doc = crm_doc()
    doc["organisation"].update(profile="gdpr", region=home)
    for datastore in doc["datastores"]:
        datastore["region"] = store
    _activity(doc, "marketing_emails")["transfers"] = []
    assert {f.rule for f in _findings(doc)} == (set() if domestic else {"TRANSFER-WITHOUT-MECHANISM"})
