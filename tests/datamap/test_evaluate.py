"""The data map rules: each fires on the map that breaks it, and a clean map passes."""

from __future__ import annotations

import pytest

from privet.datamap.evaluate import evaluate
from privet.datamap.matching import index_statement
from privet.taxonomy.loader import default_taxonomy
from tests.datamap.factories import crm_doc, crm_manifest


def _findings(doc: dict) -> list:
    """The findings these tests are about: the tables they add declare no `timestamps:`, so the activities'
    retention gets RETENTION-NO-TIMESTAMP findings on them; those are tested in tests/retention/test_activity_rules.py
    and left out here."""
    return [f for f in evaluate(crm_manifest(**doc), default_taxonomy()) if f.rule != "RETENTION-NO-TIMESTAMP"]


def _activity(doc: dict, key: str) -> dict:
    return next(a for a in doc["processing_activities"] if a["key"] == key)


def _field(doc: dict, dataset: str, table: str, name: str) -> dict:
    ds = next(d for d in doc["datasets"] if d["key"] == dataset)
    return next(f for f in next(t for t in ds["tables"] if t["name"] == table)["fields"] if f["name"] == name)


def test_clean_map_has_no_findings() -> None:
    assert evaluate(crm_manifest(), default_taxonomy()) == []


def test_the_crm_without_timestamps_gets_only_retention_findings() -> None:
    doc = crm_doc()
    for dataset in doc["datasets"]:
        for table in dataset["tables"]:
            table.pop("timestamps", None)
    findings = evaluate(crm_manifest(**doc), default_taxonomy())
    governed = {
        ("customer_service", "customers"),
        ("accounting", "customers"),
        ("customer_service", "addresses"),
        ("accounting", "addresses"),
        ("marketing_emails", "subscribers"),
    }
    assert {f.rule for f in findings} == {"RETENTION-NO-TIMESTAMP"}
    named = {(f.object.split(".")[1], f.message.split("table `")[1].split("`")[0]) for f in findings}
    assert governed <= named


def test_sensitive_category_declared_without_separate_consent() -> None:
    doc = crm_doc()
    _activity(doc, "marketing_emails")["optional_categories"] = ["user.location.track"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "PIPL-SENSITIVE-SEPARATE-CONSENT",
        "error",
        "processing_activities.marketing_emails",
    )
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


@pytest.mark.parametrize(
    "transfers", [[], [{"destination": "US"}], [{"destination": "DE", "mechanism": "standard_contract"}]]
)
@pytest.mark.promise("P29")
def test_datastore_outside_the_region_needs_a_transfer_mechanism(transfers: list) -> None:
    doc = crm_doc()
    _activity(doc, "marketing_emails")["transfers"] = transfers
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity) == ("TRANSFER-WITHOUT-MECHANISM", "error")
    assert "US" in finding.message and "CN" in finding.message


@pytest.mark.promise("P2")
def test_undeclared_category_is_an_error_in_an_exclusive_dataset() -> None:
    doc = crm_doc()
    _field(doc, "mailing", "subscribers", "id")["category"] = "user.device.ip_address"
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "UNDECLARED-CATEGORY",
        "error",
        "processing_activities.marketing_emails",
    )
    assert "user.device.ip_address" in finding.message


def test_undeclared_category_is_a_warning_in_a_shared_dataset() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["optional_categories"] = ["user.contact.address"]
    findings = _findings(doc)
    assert {(f.rule, f.severity) for f in findings} == {("UNDECLARED-CATEGORY", "warning")}
    assert {f.message.split("`")[3] for f in findings} == {
        "user.account.user_id",
        "user.contact.email",
        "user.contact.phone",
    }


def test_identity_field_not_indexed_is_a_warning() -> None:
    doc = crm_doc()
    _field(doc, "crm", "customers", "phone")["indexed"] = False
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "IDENTITY-NOT-INDEXED",
        "warning",
        "datasets.crm.customers.phone",
    )
    assert "is not indexed" in finding.message


def test_identity_field_with_unknown_index_is_a_warning_too() -> None:
    doc = crm_doc()
    del _field(doc, "mailing", "subscribers", "email")["indexed"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "IDENTITY-NOT-INDEXED",
        "warning",
        "datasets.mailing.subscribers.email",
    )
    assert "not known to be indexed" in finding.message
    assert "privet datamap scaffold" in finding.hint and "indexed: true" in finding.hint


def test_datastore_without_dataset_is_a_warning() -> None:
    doc = crm_doc()
    doc["datastores"].append({"key": "old_db", "system": "crm", "kind": "manual", "region": "CN"})
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "DATASTORE-WITHOUT-DATASET",
        "warning",
        "datastores.old_db",
    )


def test_storage_location_outside_the_region_needs_a_transfer_mechanism() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["storage_locations"] = ["CN", "SG"]
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "TRANSFER-WITHOUT-MECHANISM",
        "error",
        "processing_activities.accounting",
    )
    assert "SG" in finding.message and "storage location" in finding.message
    _activity(doc, "accounting")["transfers"] = [{"destination": "SG"}]  # no mechanism: still not covered
    assert [f.rule for f in _findings(doc)] == ["TRANSFER-WITHOUT-MECHANISM"]
    _activity(doc, "accounting")["transfers"] = [{"destination": "SG", "mechanism": "standard_contract"}]
    assert _findings(doc) == []


def test_storage_location_in_a_subdivision_of_the_region_is_domestic() -> None:
    doc = crm_doc()
    _activity(doc, "accounting")["storage_locations"] = ["CN-GD"]
    assert _findings(doc) == []


@pytest.mark.parametrize(
    ("store", "destination", "covered"),
    [
        ("DE", "EU", True),
        ("IE", "EEA", True),
        ("EU", "EEA", True),
        ("NO", "EEA", True),
        ("NO", "EU", False),
        ("EU", "DE", False),
        ("FR", "DE", False),
        ("DE", "GLOBAL", True),
        ("US", "EU", False),
    ],
)
def test_eu_member_states_lie_within_eu_and_eea_transfers(store: str, destination: str, covered: bool) -> None:
    doc = crm_doc()
    doc["datastores"][1]["region"] = store
    _activity(doc, "marketing_emails")["transfers"] = [{"destination": destination, "mechanism": "sccs"}]
    assert [f.rule for f in _findings(doc)] == ([] if covered else ["TRANSFER-WITHOUT-MECHANISM"])


@pytest.mark.parametrize(
    ("home", "store", "domestic"),
    [
        ("EU", "DE", True),
        ("DE", "FR", True),
        ("EEA", "NL", True),
        ("DE", "NO", True),
        ("DE", "US", False),
        ("CN", "DE", False),
    ],
)
def test_eu_member_states_are_inside_an_eu_organisation_region(home: str, store: str, domestic: bool) -> None:
    doc = crm_doc()
    doc["organisation"].update(profile="gdpr", region=home)
    for datastore in doc["datastores"]:
        datastore["region"] = store
    _activity(doc, "marketing_emails")["transfers"] = []
    assert {f.rule for f in _findings(doc)} == (set() if domestic else {"TRANSFER-WITHOUT-MECHANISM"})


# --- requests: reaching, erasing, finding by an index, taking only the person's rows ---

RETAIN = {"action": "retain", "reason": "accounting records", "duration": "P10Y"}


def _tables(doc: dict, dataset: str) -> list[dict]:
    return next(d for d in doc["datasets"] if d["key"] == dataset)["tables"]


def _shop(doc: dict) -> dict:
    """The CRM with orders → order lines → line notes (belongs_to, three levels), a home address the customer
    owns, staff (someone else) on each order, and a mail-store table entered by a reference to customers.id."""
    crm = _tables(doc, "crm")
    next(t for t in crm if t["name"] == "customers")["fields"].append(
        {"name": "home_address_id", "references": "home_addresses.id", "relation": "owns"}
    )
    crm += [
        {
            "name": "home_addresses",
            "primary_key": ["id"],
            "erasure": {"action": "delete_row"},
            "fields": [{"name": "id"}, {"name": "street", "category": "user.contact.address"}],
        },
        {
            "name": "staff",
            "primary_key": ["id"],
            "erasure": RETAIN,
            "fields": [
                {"name": "id"},
                {"name": "name", "category": "user.name"},
                {"name": "email", "category": "user.contact.email"},
            ],
        },
        {
            "name": "orders",
            "primary_key": ["id"],
            "erasure": RETAIN,
            "fields": [
                {"name": "id"},
                {"name": "customer_id", "references": "customers.id"},
                {"name": "staff_id", "references": "staff.id", "relation": "points_to"},
                {"name": "total", "category": "user.behavior.purchase_history"},
            ],
        },
        {
            "name": "order_lines",
            "primary_key": ["id"],
            "erasure": RETAIN,
            "fields": [
                {"name": "id"},
                {"name": "order_id", "references": "orders.id"},
                {"name": "item", "category": "user.behavior.purchase_history"},
            ],
        },
        {
            "name": "line_notes",
            "primary_key": ["id"],
            "erasure": {"action": "delete_row"},
            "fields": [
                {"name": "id"},
                {"name": "line_id", "references": "order_lines.id"},
                {"name": "note", "category": "user.communication"},
            ],
        },
    ]
    _tables(doc, "mailing").append(
        {
            "name": "opens",
            "primary_key": ["id"],
            "erasure": {"action": "delete_row"},
            "fields": [
                {"name": "id"},
                {"name": "customer_id", "references": "crm.customers.id"},
                {"name": "opened_at", "category": "user.behavior"},
            ],
        }
    )
    for key in ("customer_service", "accounting", "marketing_emails"):
        _activity(doc, key)["optional_categories"] = [
            "user.contact",
            "user.account",
            "user.behavior",
            "user.communication",
            "user.device",
        ]
    return doc


def _staff_identity(doc: dict) -> None:
    """Staff members can exercise their rights: their e-mail is an identity."""
    _field(doc, "crm", "staff", "email").update(identity="email", indexed=True)


def _rules(doc: dict) -> list[tuple[str, str]]:
    return [(f.rule, f.object) for f in _findings(doc)]


def test_tables_down_belongs_to_up_owns_and_across_datastores_are_reached() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    assert _findings(doc) == []


def test_a_table_only_points_to_leads_to_is_unreachable_until_its_people_have_an_identity() -> None:
    doc = _shop(crm_doc())
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "PERSONAL-TABLE-UNREACHABLE",
        "error",
        "datasets.crm.staff",
    )
    assert "user.contact.email" in finding.message and "`orders.staff_id` (points_to)" in finding.message
    assert "`identity: email` on `staff.email`" in finding.hint  # how staff members exercise their rights
    _staff_identity(doc)
    assert _findings(doc) == []


def test_a_broken_belongs_to_chain_leaves_every_level_below_unreachable() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    _field(doc, "crm", "orders", "customer_id")["relation"] = "points_to"
    assert _rules(doc) == [
        ("PERSONAL-TABLE-UNREACHABLE", f"datasets.crm.{t}") for t in ("orders", "order_lines", "line_notes")
    ]


def test_a_parent_reached_only_up_a_belongs_to_needs_owns_or_points_to() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    del _field(doc, "crm", "customers", "home_address_id")["relation"]  # belongs_to: the address's rows are not taken
    [finding] = _findings(doc)
    assert (finding.rule, finding.object) == ("PERSONAL-TABLE-UNREACHABLE", "datasets.crm.home_addresses")
    assert "`customers.home_address_id` (belongs_to)" in finding.message
    assert "`relation: owns` on `customers.home_address_id`" in finding.hint and "points_to" in finding.hint


def test_nothing_is_walked_down_from_a_row_the_person_only_owns() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    _tables(doc, "crm").append(  # deliveries to an address: other people's too, since others may share it
        {
            "name": "deliveries",
            "primary_key": ["id"],
            "erasure": {"action": "delete_row"},
            "fields": [
                {"name": "id"},
                {"name": "address_id", "references": "home_addresses.id"},
                {"name": "signed_by", "category": "user.name"},
            ],
        }
    )
    [finding] = _findings(doc)
    assert (finding.rule, finding.object) == ("PERSONAL-TABLE-UNREACHABLE", "datasets.crm.deliveries")
    assert "only owns" in finding.message


def test_a_reference_to_another_datastore_enters_only_at_an_identity_and_as_belongs_to() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    _field(doc, "mailing", "opens", "customer_id")["relation"] = "points_to"
    assert _rules(doc) == [("PERSONAL-TABLE-UNREACHABLE", "datasets.mailing.opens")]
    _field(doc, "mailing", "opens", "customer_id").update(relation="belongs_to", references="crm.organisations.id")
    assert _rules(doc) == [("PERSONAL-TABLE-UNREACHABLE", "datasets.mailing.opens")]  # not an identity
    assert "no reference connects it" in _findings(doc)[0].message


def test_manual_datastores_are_not_walked_but_need_erasure_actions() -> None:
    doc = crm_doc()
    doc["datastores"].append({"key": "paper", "system": "crm", "kind": "manual", "region": "CN"})
    doc["datasets"].append(
        {
            "key": "files",
            "datastore": "paper",
            "tables": [{"name": "contracts", "fields": [{"name": "signatory", "category": "user.name"}]}],
        }
    )
    _activity(doc, "customer_service")["datasets"].append("files")
    [finding] = _findings(doc)
    assert (finding.rule, finding.object) == ("PERSONAL-TABLE-NO-ERASURE", "datasets.files.contracts")


def test_personal_fields_without_an_erasure_action_are_named() -> None:
    doc = crm_doc()
    del next(t for t in _tables(doc, "crm") if t["name"] == "customers")["erasure"]
    _field(doc, "crm", "customers", "name")["erasure"] = {"action": "mask"}
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "PERSONAL-TABLE-NO-ERASURE",
        "error",
        "datasets.crm.customers",
    )
    assert finding.message.endswith(": id, email, phone")
    assert "delete_row" in finding.hint and "retain" in finding.hint and "reason" in finding.hint
    next(t for t in _tables(doc, "crm") if t["name"] == "customers")["erasure"] = {"action": "null"}
    assert _findings(doc) == []


def test_an_unreachable_table_is_reported_once_not_also_for_erasure() -> None:
    doc = _shop(crm_doc())
    del next(t for t in _tables(doc, "crm") if t["name"] == "staff")["erasure"]
    assert _rules(doc) == [("PERSONAL-TABLE-UNREACHABLE", "datasets.crm.staff")]


def test_an_inferred_reference_is_a_warning_until_reviewed() -> None:
    doc = crm_doc()
    _field(doc, "crm", "addresses", "customer_id")["inferred"] = True
    [finding] = _findings(doc)
    assert (finding.rule, finding.severity, finding.object) == (
        "REFERENCE-INFERRED",
        "warning",
        "datasets.crm.addresses.customer_id",
    )
    assert finding.hint == (
        "check that `addresses.customer_id` holds `customers.id` values and which relation it "
        "is (belongs_to, owns or points_to), then remove `inferred: true`"
    )
    _field(doc, "crm", "addresses", "customer_id")["inferred"] = False
    assert _findings(doc) == []


@pytest.mark.parametrize(
    ("field", "match", "mode"), [("phone", None, "phone"), ("email", None, "casefold"), ("email", "exact", "exact")]
)
def test_not_indexed_hint_is_the_index_statement_for_the_match(field: str, match: str | None, mode: str) -> None:
    doc = crm_doc()
    _field(doc, "crm", "customers", field).update(indexed=False, **({"match": match} if match else {}))
    [finding] = _findings(doc)
    assert (finding.rule, finding.object) == ("IDENTITY-NOT-INDEXED", f"datasets.crm.customers.{field}")
    assert f"`match: {mode}`" in finding.message
    assert index_statement("customers", field, mode, "postgresql") in finding.hint
    assert "MariaDB" not in finding.hint


def test_not_indexed_hint_on_mysql_names_mariadb_and_the_exact_match() -> None:
    doc = crm_doc()
    _field(doc, "mailing", "subscribers", "email")["indexed"] = False
    [finding] = _findings(doc)
    assert index_statement("subscribers", "email", "casefold", "mysql") in finding.hint  # MySQL 8
    assert "MariaDB cannot index an expression" in finding.hint and "`match: exact`" in finding.hint
    assert index_statement("subscribers", "email", "exact", "mysql") in finding.hint
    assert "collation is case-insensitive" in finding.hint


def test_identity_fields_of_a_manual_datastore_need_no_index() -> None:
    doc = crm_doc()
    doc["datastores"][1].update(kind="manual", secret=None)
    del _field(doc, "mailing", "subscribers", "email")["indexed"]
    assert _findings(doc) == []


def test_a_defaulted_belongs_to_into_other_people_is_a_warning() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    del _field(doc, "crm", "orders", "staff_id")["relation"]  # the staff member would be given the order
    findings = _findings(doc)
    assert [(f.rule, f.severity, f.object) for f in findings] == [
        ("RELATION-REVIEW", "warning", "datasets.crm.orders.customer_id"),
        ("RELATION-REVIEW", "warning", "datasets.crm.orders.staff_id"),
    ]
    assert "found in `customers`" in findings[1].message and "`relation: points_to`" in findings[1].hint
    _field(doc, "crm", "orders", "staff_id")["relation"] = "points_to"
    _field(doc, "crm", "orders", "customer_id")["relation"] = "belongs_to"  # declared: reviewed
    assert _findings(doc) == []


def test_relation_review_names_the_cause_not_every_row_below_it() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    _field(doc, "crm", "customers", "organisation_id")["relation"] = None
    orgs = next(t for t in _tables(doc, "crm") if t["name"] == "organisations")
    orgs["fields"].append(
        {"name": "contact_email", "category": "user.contact.email", "identity": "email", "indexed": True}
    )
    assert _rules(doc) == [("RELATION-REVIEW", "datasets.crm.customers.organisation_id")]


def test_another_kind_of_identity_is_taken_as_the_same_person() -> None:
    doc = _shop(crm_doc())
    _staff_identity(doc)
    _tables(doc, "crm").append(
        {
            "name": "devices",
            "primary_key": ["id"],
            "erasure": {"action": "delete_row"},
            "fields": [
                {"name": "id"},
                {"name": "customer_id", "references": "customers.id"},
                {
                    "name": "serial",
                    "category": "user.device.serial_number",
                    "identity": "device_serial",
                    "indexed": True,
                },
            ],
        }
    )
    assert _findings(doc) == []


def test_a_table_referring_to_itself_is_not_reviewed() -> None:
    doc = crm_doc()
    next(t for t in _tables(doc, "crm") if t["name"] == "customers")["fields"].append(
        {"name": "referred_by", "references": "customers.id"}
    )
    assert _findings(doc) == []
