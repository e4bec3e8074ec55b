"""Questions asked of the taxonomy, and a company's additions: accepted, or rejected with file:line."""

from __future__ import annotations

import textwrap

import pytest

from privet.kit.errors import InvalidInput, NotFound
from privet.kit.yamlio import load_text
from privet.taxonomy.loader import default_taxonomy, load_taxonomy

SOURCE = "acme-taxonomy.yaml"


def _load(text: str):
    return load_taxonomy(load_text(textwrap.dedent(text), SOURCE), SOURCE)


def _problems(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        _load(text)
    return [p.render() for p in caught.value.problems]


def test_ancestors_and_containment() -> None:
    t = default_taxonomy()
    assert t.ancestors("user.contact.address.province") == ["user.contact.address", "user.contact", "user"]
    assert t.ancestors("marketing.communications.sms") == ["marketing.communications", "marketing"]
    assert t.ancestors("user") == [] and t.ancestors("consent") == []
    assert t.is_within("user.contact.email", "user.contact") and t.is_within("user.contact", "user.contact")
    assert not t.is_within("user.contact", "user.contact.email")
    assert not t.is_within("user.contactless", "user.contact")  # containment is by segment, not by text
    assert t.ancestors("user.contact.email.work") == ["user.contact.email", "user.contact", "user"]  # undefined key


def test_sensitivity_is_inherited_from_the_nearest_ancestor() -> None:
    t = default_taxonomy()
    assert t.categories["user.financial.bank_account"].sensitive is None
    assert t.sensitive_kind("user.financial.bank_account") == "financial_account"
    assert t.sensitive_kind("user.health") == "health"
    assert t.sensitive_kind("user.health.medical_record") == "medical"  # its own kind wins over the parent's
    assert t.sensitive_kind("user.contact.email") is None and t.sensitive_kind("user") is None
    assert t.sensitive_kind("user.biometric.face.template") == "biometric"  # beneath a known key


def test_by_fideslang_exact_nearest_renamed_or_none() -> None:
    t = default_taxonomy()
    assert t.by_fideslang("user.contact.email") == "user.contact.email"
    assert t.by_fideslang("user.financial.bank_account") == "user.financial.bank_account"
    assert t.by_fideslang("user.device.ip_address") == "user.device.ip_address"
    assert t.by_fideslang("user.contact.address.city") == "user.contact.address"  # nearest mapped ancestor
    assert t.by_fideslang("user.name.first") == "user.name"
    assert t.by_fideslang("user.device.device_id") == "user.device.device_id"  # key equal to it beats order
    assert t.by_fideslang("user.biometric.fingerprint") == "user.biometric.fingerprint"  # fideslang < 3.2 name
    assert t.by_fideslang("user.location.imprecise") == "user.location.coarse"
    assert t.by_fideslang("system.operations") is None and t.by_fideslang("nonsense") is None
    assert t.by_fideslang("marketing.communications.email", "purposes") == "marketing.communications.email"
    assert t.by_fideslang("essential.service.payment_processing", "purposes") == "service"


def test_labels_and_lookups() -> None:
    t = default_taxonomy()
    assert t.label("categories", "user.contact.email", "zh_CN") == "电子邮件地址"
    assert t.label("legal-bases", "separate_consent", "zh_CN") == "单独同意"
    assert t.label("purposes", "marketing", "fr") == "Marketing"  # falls back to English
    assert t.label("categories", "not.a.key") == "not.a.key"
    assert t.lookup("consent")[0] == "legal_bases"
    with pytest.raises(NotFound) as caught:
        t.get("categories", "user.contact.emial")
    assert "user.contact.email" in caught.value.hint
    with pytest.raises(NotFound):
        t.section("colours")


def test_company_additions_inherit_and_relabel() -> None:
    t = _load("""
        categories:
          - key: user.contact.wechat_id
            name: {en: WeChat ID, zh_CN: 微信号}
            fideslang: user.contact
          - key: user.biometric.gait
            name: {en: Gait}
          - key: acme_loyalty_points
            parent: user.account
            name: {en: Loyalty points}
          - key: user.name
            override: true
            name: {zh_CN: 名字}
            description: Legal name as on the contract.
        purposes:
          - key: marketing.wechat
            name: {en: WeChat marketing}
        identity_types:
          - key: qq_number
            name: {en: QQ number}
            category: user.account.third_party_id
    """)
    assert t.categories["user.contact.wechat_id"].source == "company"
    assert t.sensitive_kind("user.biometric.gait") == "biometric"
    assert t.is_within("acme_loyalty_points", "user.account") and t.ancestors("acme_loyalty_points")[-1] == "user"
    assert t.purposes["marketing.wechat"].type == "marketing"  # inherited: company marketing stays optional
    assert t.categories["user.name"].name == {"en": "Name", "zh_CN": "名字"}
    name = t.categories["user.name"]
    assert name.description.startswith("Legal name") and name.source == "company"
    assert t.identity_types["qq_number"].category == "user.account.third_party_id"
    assert t.by_fideslang("user.contact") == "user.contact"  # the default keeps its own mapping
    assert "user.contact.wechat_id" not in default_taxonomy().categories  # the default is untouched


def test_unknown_parent_duplicates_and_cycle_reported_together_with_lines() -> None:
    problems = _problems("""
        categories:
          - key: user.contact.fax.home
            name: {en: Home fax}
          - key: user.contact.email
            name: {en: Mail}
          - key: acme_a
            parent: acme_b
            name: {en: A}
          - key: acme_b
            parent: acme_a
            name: {en: B}
          - key: acme_a
            name: {en: A again}
        purposes:
          - key: loyalty
            parent: growth
            name: {en: Loyalty}
    """)
    assert len(problems) == 5
    assert problems[0].startswith(f"{SOURCE}:3: the parent `user.contact.fax`")
    assert problems[1].startswith(f"{SOURCE}:5: categories key `user.contact.email` is already defined")
    assert "override: true" in problems[1]
    assert problems[2].startswith(f"{SOURCE}:7: the parents form a cycle: acme_a → acme_b → acme_a")
    assert problems[3].startswith(f"{SOURCE}:13: duplicate categories key `acme_a` (first at {SOURCE}:7)")
    assert problems[4].startswith(f"{SOURCE}:16: the parent `growth` of `loyalty`")


def test_shape_errors_name_field_and_line() -> None:
    problems = _problems("""
        categories:
          - key: user.contact.pager
            name: {en: Pager}
            sensitve: health
          - key: user.device.chip
            name: {en: Chip}
            sensitive: radioactive
          - key: User.Bad
            name: {en: Bad}
        purposes:
          - key: loyalty
            name: {en: Loyalty}
            type: fun
          - key: retention_offers
            name: {en: Offers}
        legal_bases:
          - key: treaty
            name: {en: Treaty}
            profiles: [pipl, hipaa]
            consent: "yes"
        colours: []
    """)
    text = "\n".join(problems)
    assert f"{SOURCE}:5: unknown field `sensitve`" in text and "the fields here are key, parent" in text
    assert f"{SOURCE}:8: categories.1.sensitive: Input should be 'biometric'" in text
    assert f"{SOURCE}:9: categories.2.key" in text and "lowercase snake_case" in text
    assert f"{SOURCE}:14: purposes.0.type: Input should be 'service'" in text
    assert f"{SOURCE}:15: purpose `retention_offers` has no `type`" in text
    assert f"{SOURCE}:20: legal_bases.0.profiles.1" in text and f"{SOURCE}:21: legal_bases.0.consent" in text
    assert f"{SOURCE}:22: unknown section `colours`" in text


def test_overrides_may_relabel_and_tighten_but_not_loosen() -> None:
    assert (
        _load("""
        categories:
          - key: user.device.serial_number
            override: true
            sensitive: specific_identity
    """).sensitive_kind("user.device.serial_number")
        == "specific_identity"
    )
    problems = _problems("""
        categories:
          - key: user.biometric
            override: true
            sensitive: health
          - key: user.contact.telex
            override: true
            name: {en: Telex}
        purposes:
          - key: marketing.communications.email
            override: true
            type: service
        legal_bases:
          - key: consent
            override: true
            profiles: [pipl, gdpr, ccpa]
          - key: contract
            override: true
            consent: true
    """)
    assert problems[0].startswith(f"{SOURCE}:5: `user.biometric` is sensitive (biometric) by law")
    assert problems[1].startswith(f"{SOURCE}:6: `user.contact.telex` overrides nothing")
    assert problems[2].startswith(f"{SOURCE}:12: an override cannot change `type`")
    assert problems[3].startswith(f"{SOURCE}:19: an override cannot change `consent`")
    assert len(problems) == 4  # consent keeping all its profiles is not a change


def test_new_entry_needs_english_name_and_known_identity_category() -> None:
    problems = _problems("""
        subject_types:
          - key: reseller
            name: {zh_CN: 经销商}
        identity_types:
          - key: qq_number
            name: {en: QQ number}
            category: user.contact.qq
    """)
    assert problems == [
        f"{SOURCE}:3: `reseller` has no English name — add `name: {{en: ..., zh_CN: ...}}`",
        f"{SOURCE}:6: identity type `qq_number` names the unknown category `user.contact.qq` — "
        "use a category key from `privet taxonomy list categories`",
    ]


def test_not_a_mapping_and_json_without_lines() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_taxonomy(["categories"], "x.yaml")  # type: ignore[arg-type]
    assert caught.value.problems[0].where == "x.yaml"
    with pytest.raises(InvalidInput) as caught:
        load_taxonomy({"categories": [{"key": "user.x.y", "name": {"en": "Y"}}]}, "body")
    assert caught.value.problems[0].where == "body" and "user.x" in caught.value.problems[0].message
