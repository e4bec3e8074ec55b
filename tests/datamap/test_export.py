"""Export round-trips: what is applied comes back equal in meaning, as a model and as YAML."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from privet.datamap import service
from privet.datamap.manifest import LoadedManifest, load_yaml_text
from privet.datamap.schemas import Manifest
from privet.datamap.validate import check
from privet.kit.yamlio import dump
from tests.datamap.factories import crm_manifest

CATEGORIES = [
    "user.name",
    "user.contact.email",
    "user.contact.phone",
    "user.device.serial_number",
    "user.location.track",
    "user.financial.payment",
]
PURPOSES = ["service.support", "marketing.communications.email", "analytics.usage", "legal.accounting"]
BASES = ["consent", "separate_consent", "contract", "legal_obligation"]
keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
names = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
erasures = st.one_of(
    st.none(),
    st.sampled_from(
        [
            {"action": "delete_row"},
            {"action": "mask"},
            {"action": "null"},
            {"action": "retain", "reason": "tax law", "duration": "P10Y"},
        ]
    ),
)


@st.composite
def tables(draw: Any) -> dict:
    field_names = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
    fields = []
    for n in field_names:
        category = draw(st.one_of(st.none(), st.sampled_from(CATEGORIES)))
        identity = draw(st.one_of(st.none(), st.sampled_from(["email", "phone", "user_id"]))) if category else None
        fields.append(
            {
                "name": n,
                "category": category,
                "identity": identity,
                "match": draw(st.one_of(st.none(), st.sampled_from(["exact", "casefold", "phone"])))
                if identity
                else None,
                "part": draw(st.one_of(st.none(), st.sampled_from(["line1", "postcode"]))),
                "indexed": draw(st.one_of(st.none(), st.booleans())),
                "erasure": draw(erasures),
                "description": draw(st.one_of(st.none(), names)),
            }
        )
    return {
        "name": draw(keys),
        "primary_key": draw(st.lists(st.sampled_from(field_names), max_size=2, unique=True)),
        "erasure": draw(erasures),
        "fields": fields,
    }


@st.composite
def manifests(draw: Any) -> Manifest:
    system_keys = draw(st.lists(keys, min_size=1, max_size=2, unique=True))
    store_keys = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
    datastores = [
        {
            "key": k,
            "system": draw(st.sampled_from(system_keys)),
            "kind": "manual",
            "region": draw(st.sampled_from(["CN", "US", "DE", "EU"])),
        }
        for k in store_keys
    ]
    datasets = []
    for key in draw(st.lists(keys, max_size=3, unique=True)):
        table_list = draw(st.lists(tables(), min_size=1, max_size=3, unique_by=lambda t: t["name"]))
        datasets.append(
            {
                "key": key,
                "datastore": draw(st.sampled_from(store_keys)),
                "tables": table_list,
                "sources": draw(st.lists(keys, max_size=2, unique=True)),
            }
        )
    activities = []
    for key in draw(st.lists(keys, max_size=3, unique=True)):
        required = draw(st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True))
        activities.append(
            {
                "key": key,
                "name": draw(names),
                "purpose": draw(st.sampled_from(PURPOSES)),
                "legal_basis": draw(st.sampled_from(BASES)),
                "required_categories": required,
                "optional_categories": [c for c in CATEGORIES[:2] if c not in required],
                "datasets": draw(
                    st.lists(st.sampled_from([d["key"] for d in datasets] or ["x"]), max_size=2, unique=True)
                )
                if datasets
                else [],
                "retention": draw(st.one_of(st.none(), st.just({"trigger": "collection", "duration": "P1Y6M"}))),
                "transfers": draw(
                    st.lists(st.just({"destination": "US", "mechanism": "standard_contract"}), max_size=1)
                ),
                "storage_locations": draw(st.lists(st.sampled_from(["CN", "US"]), max_size=2, unique=True)),
            }
        )
    return Manifest.model_validate(
        {
            "organisation": {
                "key": "org",
                "name": draw(names),
                "profile": "pipl",
                "region": "CN",
                "child_age": draw(st.integers(1, 21)),
                "responsible": {"name": draw(names)},
            },
            "systems": [
                {"key": k, "name": draw(names), "owner": draw(st.one_of(st.none(), names))} for k in system_keys
            ],
            "datastores": datastores,
            "datasets": datasets,
            "processing_activities": activities,
        }
    )


def test_current_equals_applied_manifest(db: Session) -> None:
    manifest = crm_manifest()
    service.apply(db, manifest, actor="test")
    assert service.canonical(service.current(db)) == service.canonical(manifest)


def test_exported_yaml_reads_back_to_the_same_manifest(db: Session) -> None:
    service.apply(db, crm_manifest(), actor="test")
    text = dump(service.canonical(service.current(db)))
    reread = load_yaml_text(text, "export.yaml").manifest
    assert service.canonical(reread) == service.canonical(crm_manifest())
    assert service.diff(reread, crm_manifest()).empty


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(manifest=manifests())
def test_round_trip_of_generated_manifests(db: Session, manifest: Manifest) -> None:
    assert check(LoadedManifest(manifest)) == []
    nested = db.begin_nested()  # each example starts from an empty data map
    try:
        service.apply(db, manifest, actor="test")
        assert service.canonical(service.current(db)) == service.canonical(manifest)
        assert not service.apply(db, manifest, actor="test").changed
    finally:
        nested.rollback()
