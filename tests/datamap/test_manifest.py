"""Loading manifests: one file or a folder, every structural problem named with its file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from faker import Faker
from fastapi.testclient import TestClient

from privet.datamap.manifest import load_manifest, load_yaml_text
from privet.kit.errors import InvalidInput
from privet.kit.yamlio import load_text
from tests.datamap.factories import ACTIVITIES, CRM_YAML, DATASETS, ORGANISATION, SYSTEMS, line_of_text, write_folder


def _problems(path: Path) -> list:
    with pytest.raises(InvalidInput) as caught:
        load_manifest(path)
    return caught.value.problems


def test_single_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(CRM_YAML, encoding="utf-8")
    m = load_manifest(path).manifest
    assert m.organisation.key == "acme"
    assert [d.key for d in m.datasets] == ["crm", "mailing"]
    assert len(m.processing_activities) == 3


def test_folder_merges_sorted_files_recursively_and_remembers_origins(tmp_path: Path) -> None:
    loaded = load_manifest(write_folder(tmp_path))
    assert [s.key for s in loaded.manifest.datastores] == ["crm_db", "mail_db"]
    assert loaded.where("organisation") == f"{tmp_path / 'organisation.yaml'}:2"
    expected = line_of_text(DATASETS, "references: crm.customers.id")
    assert (
        loaded.where("datasets", 1, "tables", 0, "fields", 1, "references")
        == f"{tmp_path / 'data/datasets.yml'}:{expected}"
    )
    assert (
        loaded.where("processing_activities", 2)
        == f"{tmp_path / 'data/activities.yaml'}:{line_of_text(ACTIVITIES, 'key: accounting')}"
    )


def test_lists_concatenate_across_files(tmp_path: Path) -> None:
    extra = "systems:\n  - key: web\n    name: Website\n"
    write_folder(tmp_path, {"a.yaml": ORGANISATION + SYSTEMS, "b.yaml": extra, "c.yaml": ""})
    assert [s.key for s in load_manifest(tmp_path).manifest.systems] == ["crm", "web"]


def test_organisation_given_twice_names_both_files(tmp_path: Path) -> None:
    write_folder(tmp_path, {"a.yaml": ORGANISATION, "b.yaml": ORGANISATION})
    [problem] = _problems(tmp_path)
    assert problem.where == f"{tmp_path / 'b.yaml'}:1"
    assert str(tmp_path / "a.yaml") in problem.message


def test_every_problem_in_every_file_is_reported(tmp_path: Path) -> None:
    bad_systems = SYSTEMS.replace("    owner: sales", "    ownr: sales").replace("kind: mysql", "kind: mongo")
    bad_acts = ACTIVITIES.replace("duration: P3Y", "duration: three years")
    write_folder(tmp_path, {"a.yaml": ORGANISATION + bad_systems, "b.yaml": DATASETS + bad_acts})
    problems = _problems(tmp_path)
    wheres = {p.where for p in problems}
    a_text = ORGANISATION + bad_systems
    assert f"{tmp_path / 'a.yaml'}:{line_of_text(a_text, 'ownr')}" in wheres
    assert f"{tmp_path / 'a.yaml'}:{line_of_text(a_text, 'mongo')}" in wheres
    assert f"{tmp_path / 'b.yaml'}:{line_of_text(DATASETS + bad_acts, 'three years')}" in wheres
    unknown = next(p for p in problems if "ownr" in p.message)
    assert "owner" in unknown.hint  # the closest allowed key is suggested
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("change", "needle", "expect"),
    [
        (("child_age: 14", "child_age: many"), "child_age", "valid integer"),
        (("region: CN\n  responsible", "region: China\n  responsible"), "region: China", "not a valid region"),
        (
            ("    name: Personal Information Protection Officer\n", "    email: x\n"),
            "responsible:",
            "missing required key `name`",
        ),
        (("    secret: crm_db\n", ""), "key: crm_db", "needs `secret:`"),
        (("erasure: {action: delete_row}", "erasure: {action: shred}"), "shred", "delete_row"),
        (("primary_key: [id]", "primary_key: id"), "primary_key: id", "valid list"),
    ],
)
def test_wrong_types_and_values_point_at_their_line(tmp_path: Path, change: tuple, needle: str, expect: str) -> None:
    text = CRM_YAML.replace("  profile: pipl\n", "  profile: pipl\n  child_age: 14\n").replace(*change, 1)
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    problems = _problems(tmp_path / "m.yaml")
    assert any(
        expect in p.message and p.where == f"{tmp_path / 'm.yaml'}:{line_of_text(text, needle)}" for p in problems
    ), [p.render() for p in problems]


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    text = ORGANISATION + "systems:\n  - key: crm\n   name: [unclosed\n"
    write_folder(tmp_path, {"a.yaml": text, "b.yaml": SYSTEMS.replace("kind: mysql", "kind: nope")})
    problems = _problems(tmp_path)
    assert any(p.where.startswith(f"{tmp_path / 'a.yaml'}:") for p in problems)
    assert any(p.where.startswith(f"{tmp_path / 'b.yaml'}:") for p in problems)  # other files still checked


def test_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(ORGANISATION.replace("  name: Acme", "  name: A\n  name: Acme"), "utf-8")
    [problem] = _problems(tmp_path / "m.yaml")
    assert "duplicate key 'name'" in problem.message and problem.where == f"{tmp_path / 'm.yaml'}:4"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("- just\n- a list\n", "utf-8")
    [problem] = _problems(tmp_path / "m.yaml")
    assert "mapping" in problem.message and problem.where == f"{tmp_path / 'm.yaml'}:1"


def test_unknown_top_level_section(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(ORGANISATION + "sytems: []\n", "utf-8")
    [problem] = _problems(tmp_path / "m.yaml")
    assert "unknown key `sytems`" in problem.message and "systems" in problem.hint


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No such file"):
        load_manifest(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match=r"No \*\.yaml"):
        load_manifest(tmp_path / "empty")


def test_text_body_uses_its_source_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml_text("systems:\n  - key: Crm\n    name: x\n", "body")
    assert caught.value.problems[0].where == "body:2"


SECRET_URL = "postgresql://app:Sup3rS3cret@db/crm"


def test_a_connection_url_as_secret_is_named_but_never_printed(tmp_path: Path) -> None:
    text = CRM_YAML.replace("secret: crm_db", f'secret: "{SECRET_URL}"')
    (tmp_path / "m.yaml").write_text(text, "utf-8")
    [problem] = _problems(tmp_path / "m.yaml")
    assert "looks like a connection URL; name a secret instead (PRIVET_SECRETS)" in problem.message
    assert problem.where == f"{tmp_path / 'm.yaml'}:{line_of_text(text, 'Sup3rS3cret')}"
    assert "Sup3rS3cret" not in problem.render() and "app:" not in problem.render()


def test_api_problem_body_never_holds_the_secret_url(client: TestClient, auth: Callable) -> None:
    headers = {**auth("datamap:read", "datamap:write"), "Content-Type": "application/yaml"}
    body = CRM_YAML.replace("secret: crm_db", f'secret: "{SECRET_URL}"').encode()
    for route in ("validate", "apply"):
        answer = client.post(f"/api/v1/datamap/{route}", content=body, headers=headers)
        assert answer.status_code == 422
        assert "connection URL" in answer.text and "Sup3rS3cret" not in answer.text, answer.text
    doc = load_text(CRM_YAML)
    doc["datastores"][0]["secret"] = SECRET_URL
    as_json = client.post("/api/v1/datamap/apply", json=doc, headers={**headers, "Content-Type": "application/json"})
    assert as_json.status_code == 422 and "Sup3rS3cret" not in as_json.text


@pytest.mark.parametrize("locale", ["en_US", "zh_CN"])
@pytest.mark.parametrize(
    ("old", "template"),
    [
        ("region: CN\n  responsible", "region: {}\n  responsible"),
        ("  profile: pipl\n", "  profile: pipl\n  child_age: {}\n"),
        ("kind: mysql", "kind: {}"),
        ("duration: P3Y", "duration: {}"),
        ("erasure: {action: mask}", "erasure: {{action: {}}}"),
        ("  - key: crm\n    name: CRM", "  - key: {}\n    name: CRM"),
        ("{name: street,", "{{name: {}, bad: 1,"),
        ("datasets: [mailing]", "datasets: [{}]"),
    ],
)
def test_problem_messages_never_quote_personal_data(tmp_path: Path, locale: str, old: str, template: str) -> None:
    name = Faker(locale).name()
    assert old in CRM_YAML
    text = CRM_YAML.replace(old, template.format(json.dumps(name, ensure_ascii=False)), 1)
    (tmp_path / "m.yaml").write_text(text, "utf-8")
    problems = _problems(tmp_path / "m.yaml")
    assert problems
    for problem in problems:
        assert name not in problem.render(), problem.render()
