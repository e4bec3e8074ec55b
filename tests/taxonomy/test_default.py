"""The shipped default taxonomy: complete, bilingual, well-formed, and loaded lazily."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from privet.taxonomy.entries import PURPOSE_TYPES, SECTIONS, SENSITIVE_KINDS
from privet.taxonomy.loader import default_taxonomy, load_taxonomy

CJK = re.compile(r"[\u4e00-\u9fff]")


def _entries():
    taxonomy = default_taxonomy()
    return [(section, entry) for section in SECTIONS for entry in getattr(taxonomy, section).values()]


@pytest.mark.parametrize(("section", "entry"), _entries(), ids=lambda x: getattr(x, "key", x))
def test_every_entry_is_bilingual_and_mapped_sensibly(section: str, entry) -> None:
    assert entry.name["en"] and CJK.search(entry.name["zh_CN"]), "needs English and Simplified Chinese names"
    assert entry.description and entry.source == "default"
    if entry.dpv:
        assert re.fullmatch(r"dpv(-pd)?:[A-Z][A-Za-z]+", entry.dpv)
        personal = section in ("categories", "identity_types") and entry.key != "user"  # user = dpv:PersonalData
        assert entry.dpv.startswith("dpv-pd:") == personal
    if section == "categories" and entry.fideslang:
        assert entry.fideslang == "user" or entry.fideslang.startswith("user.")


def test_sections_hold_what_the_law_and_the_issue_name() -> None:
    taxonomy = default_taxonomy()
    assert set(taxonomy.legal_bases) == {
        "consent",
        "separate_consent",
        "contract",
        "legal_obligation",
        "vital_interest",
        "public_interest",
        "news_reporting",
        "publicly_available",
        "legitimate_interest",
        "hr_management",
    }
    assert taxonomy.legal_bases["legitimate_interest"].profiles == ("gdpr",)
    assert "gdpr" not in taxonomy.legal_bases["hr_management"].profiles
    assert {k for k, b in taxonomy.legal_bases.items() if b.consent} == {"consent", "separate_consent"}
    assert {
        "customer",
        "website_visitor",
        "device_owner",
        "partner",
        "organisation_contact",
        "employee",
        "child",
        "guardian",
        "trainee",
    } <= set(taxonomy.subject_types)
    assert {"email", "phone", "user_id", "device_serial", "wechat_openid"} <= set(taxonomy.identity_types)
    for identity in taxonomy.identity_types.values():
        assert identity.category in taxonomy.categories


def test_every_kind_and_type_is_used_and_valid() -> None:
    taxonomy = default_taxonomy()
    declared = {c.sensitive for c in taxonomy.categories.values() if c.sensitive}
    assert declared == set(SENSITIVE_KINDS)
    assert {p.type for p in taxonomy.purposes.values()} == set(PURPOSE_TYPES)


def test_hierarchy_is_dotted_and_rooted() -> None:
    taxonomy = default_taxonomy()
    for key, category in taxonomy.categories.items():
        assert key == "user" or taxonomy.ancestors(key, "categories")[-1] == "user"
        if "." in key:
            assert category.parent == key.rsplit(".", 1)[0]
    for key, purpose in taxonomy.purposes.items():
        root = taxonomy.purposes[([key, *taxonomy.ancestors(key, "purposes")])[-1]]
        assert purpose.type == root.type, f"{key} is typed differently from its root {root.key}"


def test_default_is_cached_and_empty_extension_is_the_default() -> None:
    assert default_taxonomy() is default_taxonomy()
    assert load_taxonomy(None) is default_taxonomy() and load_taxonomy({}) is default_taxonomy()


def test_nothing_is_loaded_at_import() -> None:
    code = (
        "import privet.taxonomy.api, privet.taxonomy.cli, privet.taxonomy.service;"
        "import privet.taxonomy.loader as l;"
        "print(l.default_taxonomy.cache_info().currsize, l._default_drafts.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
