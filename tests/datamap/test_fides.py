"""`privet datamap import-fides` converts a Fides dataset file (documented format) into a valid Privet map."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from privet.datamap.fides import convert_fides
from privet.datamap.schemas import Manifest
from privet.kit.errors import InvalidInput
from tests.datamap.test_scaffold import privet

FIXTURE = Path(__file__).parent / "fixtures" / "fides_postgres_example.yml"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def converted() -> dict:
    return convert_fides(FIXTURE)


def _fields(data: dict, dataset: str, table: str) -> dict[str, dict]:
    ds = next(d for d in data["datasets"] if d["key"] == dataset)
    return {f["name"]: f for f in next(t for t in ds["tables"] if t["name"] == table)["fields"]}


def _table(data: dict, dataset: str, table: str) -> dict:
    ds = next(d for d in data["datasets"] if d["key"] == dataset)
    return next(t for t in ds["tables"] if t["name"] == table)


def test_result_is_a_valid_manifest_with_datastore_stubs(converted: dict) -> None:
    manifest = Manifest.model_validate(converted)
    assert [d.key for d in manifest.datasets] == ["shop_postgres", "device_cloud"]  # fides_key snake-cased
    assert {s.key for s in manifest.datastores} == {"shop_postgres", "device_cloud"}
    assert [t.name for t in manifest.datasets[0].tables] == ["customer", "address", "orders", "order_item"]


def test_categories_and_identities_mapped(converted: dict) -> None:
    customer = _fields(converted, "shop_postgres", "customer")
    assert customer["email"] == {
        "name": "email",
        "category": "user.contact.email",
        "identity": "email",
        "description": "Login e-mail",
    }
    assert customer["mobile"]["category"] == "user.contact.phone" and customer["mobile"]["identity"] == "phone"
    assert customer["birthday"]["category"] == "user.demographic.date_of_birth"
    assert "category" not in customer["created"]  # system.operations is not personal
    assert _fields(converted, "shop_postgres", "address")["state"]["category"] == "user.contact.address.province"
    device = _fields(converted, "device_cloud", "device")
    assert device["serial"]["identity"] == "device_serial" and device["serial"]["category"].startswith("user.device")


def test_unmapped_children_use_nearest_mapped_parent(converted: dict) -> None:
    address = _fields(converted, "shop_postgres", "address")
    assert address["city"]["category"] == "user.contact.address"
    assert address["zip"]["category"] == "user.contact.address"


def test_several_categories_keep_the_first_and_note_the_rest(converted: dict) -> None:
    card = _fields(converted, "shop_postgres", "order_item")["card_number"]
    assert card["category"] == "user.financial.payment_card" and "user.financial" in card["description"]


def test_primary_keys_and_references(converted: dict) -> None:
    assert _table(converted, "shop_postgres", "customer")["primary_key"] == ["id"]
    assert _table(converted, "shop_postgres", "order_item")["primary_key"] == ["order_id", "line_no"]
    assert _fields(converted, "shop_postgres", "address")["customer_id"]["references"] == "customer.id"
    # legacy `fidesops_meta` and direction `to` are read the same way
    assert _fields(converted, "shop_postgres", "orders")["shipping_address_id"]["references"] == "address.id"
    assert _fields(converted, "shop_postgres", "order_item")["order_id"]["references"] == "orders.id"
    assert _fields(converted, "device_cloud", "device")["owner_id"]["references"] == "shop_postgres.customer.id"


def test_nested_fields_are_flattened(converted: dict) -> None:
    customer = _fields(converted, "shop_postgres", "customer")
    assert "preferences" not in customer
    assert customer["preferences.language"]["category"] == "user.demographic.language"
    assert customer["preferences.contact.backup_email"]["category"] == "user.contact.email"
    assert "category" not in customer["preferences.newsletter"]


def test_datastore_key_puts_every_dataset_in_that_datastore() -> None:
    data = convert_fides(FIXTURE, datastore_key="shop_db")
    assert "datastores" not in data and {d["datastore"] for d in data["datasets"]} == {"shop_db"}


def test_strict_refuses_inexact_mappings_with_lines() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        convert_fides(FIXTURE, strict=True)
    wheres = {p.where: p.message for p in caught.value.problems}
    city = f"{FIXTURE}:{_line(text, 'user.contact.address.city')}"
    assert city in wheres and "user.contact.address.city" in wheres[city]
    assert f"{FIXTURE}:{_line(text, 'user.contact.address.postal_code')}" in wheres


def test_unmapped_category_is_an_error_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "dataset:\n  - fides_key: x\n    collections:\n      - name: t\n        fields:\n"
        "          - name: a\n            data_categories:\n              - user.contact.email\n"
        "              - custom.loyalty_tier\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        convert_fides(bad)
    [problem] = caught.value.problems
    assert problem.where == f"{bad}:9" and "custom.loyalty_tier" in problem.message
    assert "company taxonomy" in problem.hint


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "dataset:\n  - fides_key: x\n    collections:\n      - name: t\n        fields:\n  - name: a\n  bad: [\n",
            None,
            "YAML could not be read",
        ),
        ("datasets:\n  - fides_key: x\n", 1, "dataset:"),
        ("dataset:\n  - fides_key: x\n    collections:\n      - fields: []\n", 4, "collection needs a `name`"),
        ("dataset:\n  - name: no key\n    collections: []\n", 2, "fides_key"),
        (
            "dataset:\n  - fides_key: x\n    collections:\n      - name: t\n        fields:\n          - name: a\n"
            "            fides_meta:\n              references:\n                - dataset: x\n",
            9,
            "collection.field",
        ),
    ],
)
def test_malformed_files_name_the_line(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        convert_fides(bad)
    rendered = caught.value.render()
    assert words in rendered and f"{bad}:" in rendered
    if line is not None:
        assert f"{bad}:{line}:" in rendered


def test_cli_converts_and_rejects(tmp_path: Path) -> None:
    ok = privet("datamap", "import-fides", str(FIXTURE), "--datastore-key", "shop_db")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("# Converted by")
    Manifest.model_validate(yaml.safe_load(ok.stdout))
    strict = privet("datamap", "import-fides", str(FIXTURE), "--strict")
    assert strict.exit_code == 2 and "user.contact.address.city" in strict.stderr and "Traceback" not in strict.output
    missing = privet("datamap", "import-fides", str(tmp_path / "nope.yml"))
    assert missing.exit_code == 2 and "Cannot read" in missing.stderr


def test_company_taxonomy_supplies_missing_mapping(tmp_path: Path) -> None:
    company = tmp_path / "taxonomy.yaml"
    company.write_text(
        "categories:\n  - key: user.contact.address.city\n    name: {en: City, zh_CN: 城市}\n"
        "    fideslang: user.contact.address.city\n",
        encoding="utf-8",
    )
    out = tmp_path / "map.yaml"
    result = privet("datamap", "import-fides", str(FIXTURE), "--taxonomy", str(company), "-o", str(out))
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert _fields(data, "shop_postgres", "address")["city"]["category"] == "user.contact.address.city"


RELATIONS = Path(__file__).parent / "fixtures" / "fides_relations_example.yml"


@pytest.fixture(scope="module")
def support() -> dict:
    return convert_fides(RELATIONS)


def test_relations_example_is_a_valid_manifest(support: dict) -> None:
    Manifest.model_validate(support)


def test_direction_becomes_the_relation(converted: dict, support: dict) -> None:
    # from: this collection is reached from the referenced one, so its rows belong to that row's person
    assert _fields(converted, "shop_postgres", "orders")["customer_id"]["relation"] == "belongs_to"
    assert _fields(support, "support_db", "login")["customer_id"]["relation"] == "belongs_to"
    # to: Fides walks to the referenced row as part of the person's data, so it is theirs...
    assert _fields(converted, "shop_postgres", "orders")["shipping_address_id"]["relation"] == "owns"
    customer = _fields(support, "support_db", "customer")
    assert customer["address_id"]["relation"] == "owns"
    # ...unless the names say it is someone else's: a role, a staff collection, a self-reference
    assert customer["support_rep_id"]["relation"] == "points_to" and "role" in customer["support_rep_id"]["description"]
    assert customer["referred_by"]["relation"] == "points_to"
    assert _fields(support, "support_db", "service_request")["employee_id"]["relation"] == "points_to"
    # no direction: belongs_to, to review
    report = _fields(support, "support_db", "report")["customer_id"]
    assert report["relation"] == "belongs_to" and "no direction" in report["description"]


def test_masking_overrides_become_erasure(support: dict) -> None:
    assert _table(support, "support_db", "customer")["erasure"] == {"action": "delete_row"}
    assert _table(support, "support_db", "service_request")["erasure"] == {"action": "null"}
    customer = _fields(support, "support_db", "customer")
    assert customer["name"]["erasure"] == {"action": "mask"} and "configuration" in customer["name"]["description"]
    assert "erasure" not in customer["secret_hint"] and "aes_encrypt" in customer["secret_hint"]["description"]
    assert "erasure" not in customer["nickname"] and "table's erasure" in customer["nickname"]["description"]
    address = _fields(support, "support_db", "address")
    assert address["state"]["erasure"] == {"action": "null"}
    assert address["house"]["erasure"] == {"action": "hash"}


def test_unmapped_fides_features_are_noted(support: dict) -> None:
    assert "skip_processing" in _table(support, "support_db", "address")["description"]
    assert "support_db.login" in _table(support, "support_db", "service_request")["description"]


def test_inexact_categories_are_noted(converted: dict, support: dict) -> None:
    city = _fields(converted, "shop_postgres", "address")["city"]
    assert city["description"] == (
        "review: Fides category user.contact.address.city has no exact Privet category; mapped to user.contact.address"
    )
    assert "description" not in _fields(converted, "shop_postgres", "customer")["birthday"]  # exact


def test_identity_without_a_personal_category_gets_its_types(support: dict) -> None:
    email = _fields(support, "support_db", "service_request")["email"]
    assert (email["category"], email["identity"]) == ("user.contact.email", "email")
    assert "no personal category" in email["description"]
