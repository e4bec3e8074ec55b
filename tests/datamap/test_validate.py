"""Cross-reference checks: each dangling key is named with its file, line and a fix hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from privet.datamap.manifest import load_manifest
from privet.datamap.validate import check
from privet.kit.errors import InvalidInput
from tests.datamap.factories import ACTIVITIES, CRM_YAML, DATASETS, ORGANISATION, SYSTEMS, line_of_text, write_folder


def _check_text(tmp_path: Path, text: str) -> list:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return check(load_manifest(path))


def test_consistent_map_has_no_problems(tmp_path: Path) -> None:
    assert _check_text(tmp_path, CRM_YAML) == []


CASES = [
    # (replace old, with new, the line to point at, message part, hint part)
    (
        "    system: crm\n    kind: mysql",
        "    system: crn\n    kind: mysql",
        "system: crn",
        "unknown system `crn`",
        "did you mean `crm`",
    ),
    ("datastore: mail_db", "datastore: mail", "datastore: mail", "unknown datastore `mail`", "mail_db"),
    ("category: user.name}", "category: user.nam}", "user.nam}", "unknown data category `user.nam`", "user.name"),
    ("identity: phone,", "identity: mobile,", "identity: mobile", "unknown identity type `mobile`", "identity_types"),
    (
        "references: crm.customers.id",
        "references: crm.customer.id",
        "crm.customer.id",
        "unknown reference target `crm.customer.id`",
        "crm.customers.id",
    ),
    (
        "references: organisations.id",
        "references: organisations.uid",
        "organisations.uid",
        "unknown reference target",
        "organisations.id",
    ),
    (
        "references: customers.id}",
        "references: nowhere.customers.id}",
        "nowhere.customers.id",
        "unknown reference target `nowhere.customers.id`: there is no dataset `nowhere`",
        "`customers` is a table of dataset `crm`: write `customers.id`",
    ),
    (
        "references: customers.id}",
        "references: customer.id}",
        "references: customer.id",
        "unknown reference target `customer.id`: dataset `crm` has no table `customer`",
        "did you mean `customers.id`",
    ),
    (
        "references: crm.customers.id",
        "references: customers.email",
        "references: customers.email",
        "dataset `mailing` has no table `customers`",
        "a table of dataset `crm`: write `crm.customers.email`",
    ),
    (
        "references: organisations.id",
        "references: organisations.uid",
        "organisations.uid",
        "table `organisations` has no field `uid`",
        "organisations.id",
    ),
    (
        "      - name: addresses\n        primary_key: [id]",
        "      - name: addresses\n        primary_key: [uid]",
        "primary_key: [uid]",
        "unknown primary key field `uid`",
        "addresses",
    ),
    ("purpose: legal.accounting", "purpose: legal.acounting", "legal.acounting", "unknown purpose", "legal.accounting"),
    (
        "legal_basis: legal_obligation",
        "legal_basis: obligation",
        "legal_basis: obligation",
        "unknown legal basis",
        "legal_obligation",
    ),
    (
        "legal_basis: legal_obligation",
        "legal_basis: legitimate_interest",
        "legitimate_interest",
        "not available under the PIPL profile",
        "separate_consent",
    ),
    (
        "subject_types: [customer, prospect]",
        "subject_types: [customer, prospects]",
        "prospects",
        "unknown subject type `prospects`",
        "prospect",
    ),
    ("datasets: [mailing]", "datasets: [mailings]", "datasets: [mailings]", "unknown dataset `mailings`", "mailing"),
    (
        "required_categories: [user.contact.email]",
        "required_categories: [user.contact.e_mail]",
        "e_mail",
        "unknown data category",
        "user.contact.email",
    ),
    (
        "optional_categories: [user.contact, user.account.user_id]",
        "optional_categories: [user.name, user.account.user_id]",
        "optional_categories: [user.name",
        "both required and optional",
        "one of the two",
    ),
    (
        "      - name: addresses\n",
        "      - name: customers\n",
        "      - name: customers\n        primary_key: [id]\n"
        "        timestamps: {account_closure: customer_id.closed_at",
        "duplicate table `customers`",
        "once",
    ),
    (
        "          - {name: phone,",
        "          - {name: email,",
        "name: email, category: user.contact.phone",
        "duplicate field `email`",
        "once",
    ),
    (
        "  - key: mailing\n",
        "  - key: crm\n",
        "  - key: crm\n    datastore: mail_db",
        "duplicate dataset key `crm`",
        "unique",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message", "hint"),
    CASES,
    ids=[c[3].split("`")[0].strip() + "-" + c[1].split()[-1] for c in CASES],
)
def test_problem_points_at_line_with_hint(
    tmp_path: Path, old: str, new: str, needle: str, message: str, hint: str
) -> None:
    assert old in CRM_YAML
    text = CRM_YAML.replace(old, new, 1)
    problems = _check_text(tmp_path, text)
    line = line_of_text(text, needle.split("\n")[0]) if "\n" not in needle else _line_of_block(text, needle)
    matching = [p for p in problems if message in p.message]
    assert matching, [p.render() for p in problems]
    assert matching[0].where == f"{tmp_path / 'map.yaml'}:{line}"
    assert hint in matching[0].hint


def _line_of_block(text: str, block: str) -> int:
    return text[: text.index(block)].count("\n") + 1


def test_missing_organisation(tmp_path: Path) -> None:
    problems = _check_text(tmp_path, SYSTEMS + DATASETS)
    assert any("no `organisation`" in p.message for p in problems)


def test_duplicate_key_across_files_names_first_file(tmp_path: Path) -> None:
    extra = "systems:\n  - key: crm\n    name: Second CRM\n"
    write_folder(tmp_path, {"a.yaml": ORGANISATION + SYSTEMS, "b.yaml": extra})
    [problem] = check(load_manifest(tmp_path))
    assert problem.where == f"{tmp_path / 'b.yaml'}:2"
    assert f"{tmp_path / 'a.yaml'}:{line_of_text(SYSTEMS, 'key: crm') + 7}" in problem.message


def test_manifest_taxonomy_section_adds_categories(tmp_path: Path) -> None:
    addition = (
        "taxonomy:\n  categories:\n    - key: user.loyalty\n      name: {en: Loyalty points}\n"
        "  identity_types:\n    - key: member_no\n      name: {en: Member number}\n"
    )
    text = CRM_YAML.replace("category: user.name}", "category: user.loyalty, identity: member_no}") + addition
    assert _check_text(tmp_path, text) == []


def test_bad_taxonomy_section_reported_with_its_file(tmp_path: Path) -> None:
    addition = "taxonomy:\n  categories:\n    - key: user.loyalty\n      parent: nothing.here\n"
    problems = _check_text(tmp_path, CRM_YAML + addition)
    assert problems and all(str(tmp_path / "map.yaml") in (p.where or "") for p in problems)


def _all_problems(path: Path) -> list:
    with pytest.raises(InvalidInput) as caught:
        load_manifest(path)
    return caught.value.problems


@pytest.mark.promise("P7")
def test_structural_and_reference_problems_are_reported_in_one_run(tmp_path: Path) -> None:
    text = CRM_YAML.replace("    owner: sales", "    ownr: sales").replace(
        "purpose: legal.accounting", "purpose: legal.acounting"
    )
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    problems = _all_problems(path)
    assert [(p.where, p.message.split("`")[0]) for p in problems] == [
        (f"{path}:{line_of_text(text, 'ownr')}", "unknown key "),
        (f"{path}:{line_of_text(text, 'legal.acounting')}", "unknown purpose "),
    ]


def test_invalid_objects_count_as_declared_and_lines_stay_right_across_files(tmp_path: Path) -> None:
    bad_systems = SYSTEMS.replace("kind: mysql", "kind: mongo")  # mail_db is invalid, but declared
    bad_data = DATASETS.replace(
        "          - {name: id}\n          - {name: name,",
        "          - {name: id, colour: red}\n          - {name: name,",
    )  # crm invalid
    bad_acts = ACTIVITIES.replace("datasets: [mailing]", "datasets: [mailings]")
    write_folder(tmp_path, {"a.yaml": ORGANISATION + bad_systems, "b.yaml": bad_data, "c.yaml": bad_acts})
    problems = _all_problems(tmp_path)
    rendered = [p.render() for p in problems]
    assert len(problems) == 3, rendered
    assert problems[2].where == f"{tmp_path / 'c.yaml'}:{line_of_text(bad_acts, 'datasets: [mailings]')}"
    assert "unknown dataset `mailings`" in problems[2].message
    assert not any("unknown datastore" in r or "reference target" in r for r in rendered)


def test_unreadable_file_skips_reference_checks(tmp_path: Path) -> None:
    write_folder(tmp_path, {"a.yaml": ORGANISATION + "systems: [oops\n", "b.yaml": DATASETS})
    problems = _all_problems(tmp_path)
    assert len(problems) == 1 and problems[0].where.startswith(str(tmp_path / "a.yaml"))
