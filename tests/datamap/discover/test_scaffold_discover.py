"""`privet datamap scaffold --discover`: the draft gets the categories the values show where the names say nothing
(or the wrong thing), each with a review note; audited; no value in the draft."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from tests.datamap.discover import shapes
from tests.datamap.discover.test_discover_cli import run


def _fields(path: Path) -> dict:
    draft = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {(t["name"], f["name"]): f for d in draft["datasets"] for t in d["tables"] for f in t["fields"]}


def test_scaffold_with_discovery_adds_categories_from_values(store: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    truth = shapes.create(url)
    plain, found = tmp_path / "plain.yaml", tmp_path / "found.yaml"
    assert run("datamap", "scaffold", "--datastore", url, "--key", "shop", "-o", str(plain)).exit_code == 0
    result = run(
        "datamap", "scaffold", "--datastore", url, "--key", "shop", "--discover", "--sample", "60", "-o", str(found)
    )
    assert result.exit_code == 0, result.output
    before, after = _fields(plain), _fields(found)
    assert "category" not in before[("customers", "notes")]  # the name says nothing
    assert after[("customers", "notes")]["category"] == shapes.PHONE
    assert after[("customers", "ref")]["category"] == shapes.RIC
    assert after[("order_lines", "contact")]["category"] == shapes.EMAIL
    assert "review: discovered from values" in after[("customers", "notes")]["description"]
    assert after[("customers", "email")] == before[("customers", "email")]  # names and values agree: unchanged
    text = found.read_text(encoding="utf-8")
    assert not [v for v in truth.values if v in text]

    from privet.audit.models import AuditEvent
    from privet.db.store import store_session

    with store_session() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "datamap.discovered")).scalar_one()
    assert event.details["tables"] == 7 and event.details["sample"] == 60
