"""Rules a data map must satisfy (run in CI by `privet datamap evaluate`); each finding has a stable rule id.

The rules about data-subject requests (reaching, erasing, indexing, relations) are in `evaluate_requests`."""

from __future__ import annotations

from typing import Any

from privet.datamap.evaluate_requests import request_findings
from privet.datamap.evaluate_retention import retention_findings
from privet.datamap.findings import Finding
from privet.datamap.schemas import Manifest, ProcessingActivity

__all__ = ["Finding", "evaluate"]

SEPARATE_CONSENT = "separate_consent"


def _sensitive(taxonomy: Any, category: str) -> str | None:
    try:
        return taxonomy.sensitive_kind(category)
    except KeyError:  # unknown categories are validation's business, not a rule finding
        return None


def _covered(taxonomy: Any, category: str, declared: list[str]) -> bool:
    """Declaring a parent category (`contact`) covers its children (`contact.email`)."""
    for parent in declared:
        try:
            if category == parent or taxonomy.is_within(category, parent):
                return True
        except KeyError:
            continue
    return False


# ISO 3166 codes of the EU member states; the EEA adds Iceland, Liechtenstein and Norway.
EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
EEA_MEMBERS = EU_MEMBERS | {"IS", "LI", "NO"}


def _country(region: str) -> str:
    return region.split("-")[0]


def _within(region: str, area: str) -> bool:
    """Whether `region` lies inside `area`: `CN-GD` in CN, `DE` in EU, `EU` and `NO` in EEA, anything in GLOBAL."""
    place, area = _country(region), _country(area)
    return (
        area in ("GLOBAL", place)
        or (area == "EU" and place in EU_MEMBERS)
        or (area == "EEA" and (place == "EU" or place in EEA_MEMBERS))
    )


def _domestic(region: str, home: str) -> bool:
    """Data held in `region` stays where subjects are (`home`); inside the EEA personal data moves freely."""
    return _within(region, home) or (_within(region, "EEA") and _within(home, "EEA"))


def evaluate(manifest: Manifest, taxonomy: Any) -> list[Finding]:
    """Every finding for the data map, errors and warnings, in a stable order."""
    findings: list[Finding] = []
    datasets = {d.key: d for d in manifest.datasets}
    users: dict[str, list[str]] = {}
    for act in manifest.processing_activities:
        for key in act.datasets:
            users.setdefault(key, []).append(act.key)
    for act in manifest.processing_activities:
        findings += _activity_findings(manifest, taxonomy, act, datasets, users)
    findings += request_findings(manifest, taxonomy)
    findings += retention_findings(manifest)
    stored = {d.datastore for d in manifest.datasets}
    for store in manifest.datastores:
        if store.key not in stored:
            findings.append(
                Finding(
                    "DATASTORE-WITHOUT-DATASET",
                    "warning",
                    f"datastores.{store.key}",
                    f"datastore `{store.key}` holds no declared dataset",
                    "declare its dataset (privet datamap scaffold) or remove the datastore",
                )
            )
    return findings


def _activity_findings(
    manifest: Manifest, taxonomy: Any, act: ProcessingActivity, datasets: dict, users: dict[str, list[str]]
) -> list[Finding]:
    out: list[Finding] = []
    obj = f"processing_activities.{act.key}"
    org = manifest.organisation
    used = [datasets[k] for k in act.datasets if k in datasets]
    field_categories = {f.category: d.key for d in used for t in d.tables for f in t.fields if f.category}
    declared = [*act.required_categories, *act.optional_categories]
    if org and org.profile.value == "pipl" and act.legal_basis != SEPARATE_CONSENT:
        sensitive = sorted({c for c in [*declared, *field_categories] if _sensitive(taxonomy, c)})
        if sensitive:
            out.append(
                Finding(
                    "PIPL-SENSITIVE-SEPARATE-CONSENT",
                    "error",
                    obj,
                    f"processes sensitive personal information ({', '.join(sensitive)}) on the "
                    f"`{act.legal_basis}` basis",
                    "PIPL Art 29: use `legal_basis: separate_consent`, "
                    "or move the sensitive data to an activity that has it",
                )
            )
    purpose = taxonomy.purposes.get(act.purpose)
    if purpose is not None and getattr(purpose, "type", None) == "marketing" and act.legal_basis == "contract":
        out.append(
            Finding(
                "MARKETING-ON-CONTRACT",
                "error",
                obj,
                f"marketing purpose `{act.purpose}` relies on the `contract` basis",
                "marketing is not necessary to perform a contract; base it on consent",
            )
        )
    if act.retention is None:
        out.append(
            Finding(
                "RETENTION-MISSING",
                "error",
                obj,
                "the activity declares no retention",
                "add `retention:` with a `trigger` and a `duration` such as P3Y",
            )
        )
    out += _transfer_findings(manifest, act, used, obj)
    for category, dataset_key in sorted(field_categories.items()):
        if _covered(taxonomy, category, declared):
            continue
        # A dataset only this activity uses exists for it, so an undeclared category there is processed
        # without a declared purpose: an error. In a shared dataset the category may belong to another
        # activity's columns, so it is a warning asking the officer to confirm.
        shared = len(users.get(dataset_key, [])) > 1
        out.append(
            Finding(
                "UNDECLARED-CATEGORY",
                "warning" if shared else "error",
                obj,
                f"dataset `{dataset_key}` holds `{category}`, which the activity does not declare",
                "add it to `required_categories` or `optional_categories`, or stop using the dataset",
            )
        )
    return out


def _transfer_findings(manifest: Manifest, act: ProcessingActivity, used: list, obj: str) -> list[Finding]:
    """Data held outside the organisation's region needs a transfer with a mechanism covering that place."""
    org = manifest.organisation
    if org is None or org.region == "GLOBAL":
        return []
    # Subjects are taken to be in the organisation's region: the manifest does not record where each
    # subject type lives, so anything held elsewhere is treated as a cross-border transfer.
    # Processors carry no region in the manifest yet, so they cannot be checked here.
    stores = {s.key: s for s in manifest.datastores}
    places: dict[str, str] = {}
    for d in used:
        if d.datastore in stores:
            places.setdefault(stores[d.datastore].region, f"uses datastore `{d.datastore}` in")
    for region in act.storage_locations:
        places.setdefault(region, "lists a storage location in")
    out = []
    for region, what in sorted(places.items()):
        if _domestic(region, org.region) or any(t.mechanism and _within(region, t.destination) for t in act.transfers):
            continue
        out.append(
            Finding(
                "TRANSFER-WITHOUT-MECHANISM",
                "error",
                obj,
                f"{what} {region} while subjects are in {org.region}, with no transfer mechanism for it",
                f"add `transfers: [{{destination: {region}, mechanism: standard_contract}}]` "
                "(or certification, security_assessment, sccs…)",
            )
        )
    return out
