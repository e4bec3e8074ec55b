"""Both demo data maps: valid, clean under evaluate, faithful to the generated schema and executable erasure."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from privet.datamap.evaluate import evaluate
from privet.datamap.manifest import LoadedManifest, load_manifest
from privet.datamap.schemas import DatastoreKind, ErasureAction, Manifest
from privet.datamap.validate import check, taxonomy_for
from privet.demo.generator import companies
from privet.settings import REPO_ROOT

COMPANIES = ["keptek", "zkteco"]


def _loaded(company: str) -> LoadedManifest:
    return load_manifest(REPO_ROOT / "examples" / company / "datamap")


def _tables(m: Manifest) -> dict[tuple[str, str], tuple[str, object]]:
    """(datastore, table) → (dataset key, Table) for every SQL datastore."""
    kinds = {s.key: s.kind for s in m.datastores}
    return {
        (d.datastore, t.name): (d.key, t)
        for d in m.datasets
        for t in d.tables
        if kinds[d.datastore] != DatastoreKind.manual
    }


def _resolve(m: Manifest, dataset: str, ref: str) -> tuple[str, str, str]:
    """`table.field` or `dataset.table.field` → (datastore, table, field)."""
    parts = ref.split(".")
    key, table, field = (dataset, *parts) if len(parts) == 2 else parts
    store = next(d.datastore for d in m.datasets if d.key == key)
    return store, table, field


@pytest.mark.parametrize("company", COMPANIES)
def test_validates_and_evaluates_without_findings(company: str) -> None:
    loaded = _loaded(company)
    taxonomy, problems = taxonomy_for(loaded)
    assert problems == [] and check(loaded) == []
    findings = evaluate(loaded.manifest, taxonomy)
    assert [f for f in findings if f.severity == "error"] == []
    assert findings == []  # not even warnings: the demo shows what a clean map looks like


@pytest.mark.parametrize("company", COMPANIES)
def test_every_generated_column_is_mapped_and_nothing_else(company: str) -> None:
    m = _loaded(company).manifest
    mapped = _tables(m)
    stores = companies()[company].datastores()
    generated = {(store, t.name): t for store, md in stores.items() for t in md.sorted_tables}
    assert set(mapped) == set(generated)
    for key, table in generated.items():
        dataset, entry = mapped[key]
        assert [f.name for f in entry.fields] == [c.name for c in table.c], key
        assert entry.primary_key == [c.name for c in table.primary_key.columns], key
        fields = {f.name: f for f in entry.fields}
        for fk in table.foreign_keys:  # every foreign key is a `references` to the same column
            ref = fields[fk.parent.name].references
            assert ref, f"{key}.{fk.parent.name} has a foreign key but no `references`"
            assert _resolve(m, dataset, ref) == (key[0], fk.column.table.name, fk.column.name)
        for f in entry.fields:  # a reference inside one datastore is a real foreign key
            if f.references and _resolve(m, dataset, f.references)[0] == key[0]:
                assert table.c[f.name].foreign_keys, f"{key}.{f.name} references without a foreign key"


@pytest.mark.parametrize("company", COMPANIES)
def test_identity_fields_are_indexed_in_the_schema(company: str) -> None:
    m = _loaded(company).manifest
    stores = companies()[company].datastores()
    for (store, name), (_, entry) in _tables(m).items():
        column_of = stores[store].tables[name].c
        for f in entry.fields:
            col = column_of[f.name]
            really = bool(col.index or col.unique or col.primary_key)
            if f.identity:
                assert f.indexed is True, f"{name}.{f.name}"
            if f.indexed is not None:
                assert f.indexed == really, f"{name}.{f.name}"


@pytest.mark.parametrize("company", COMPANIES)
def test_erasure_actions_can_run_on_the_schema(company: str) -> None:
    """`null` only on nullable columns, mask/hash only on text, and deleted rows are not referenced by kept ones."""
    m = _loaded(company).manifest
    stores = companies()[company].datastores()
    mapped = _tables(m)
    action: dict[tuple[str, str, str], ErasureAction] = {}
    for (store, name), (_, entry) in mapped.items():
        for f in entry.fields:
            chosen = f.erasure or (entry.erasure if f.category else None)
            if chosen:
                action[(store, name, f.name)] = chosen.action
    for (store, name, field), act in action.items():
        col = stores[store].tables[name].c[field]
        if act == ErasureAction.null:
            assert col.nullable, f"{name}.{field} cannot be nulled"
        if act in (ErasureAction.mask, ErasureAction.hash):
            assert isinstance(col.type, sa.String), f"{name}.{field} is not text"
    deleted = {(s, n) for (s, n), (_, e) in mapped.items() if e.erasure and e.erasure.action == "delete_row"}
    for store, name in mapped:
        for fk in stores[store].tables[name].foreign_keys:
            if (store, fk.column.table.name) in deleted and (store, name) not in deleted:
                assert action.get((store, name, fk.parent.name)) == ErasureAction.null, (
                    f"{name}.{fk.parent.name} would block deleting {fk.column.table.name} rows"
                )


@pytest.mark.parametrize("company", COMPANIES)
def test_datastores_name_the_demo_secrets_and_yaml_holds_no_urls_or_real_contacts(company: str) -> None:
    comp = companies()[company]
    m = _loaded(company).manifest
    sql = {s.key: s.secret for s in m.datastores if s.kind != DatastoreKind.manual}
    assert sql == {key: comp.secret(key) for key in comp.datastores()}
    text = "".join(p.read_text() for p in (REPO_ROOT / "examples" / company).rglob("*.yaml"))
    assert "://" not in text
    for real in ("keptek.com", "zkteco.com", "8787", "@qq.", "@163."):
        assert real not in text
    assert m.organisation.responsible.email.endswith(".example")


def test_profiles() -> None:
    keptek, zkteco = (_loaded(c).manifest.organisation for c in COMPANIES)
    assert (keptek.profile.value, keptek.region, keptek.child_age, keptek.adults_only) == ("pipl", "CN", 14, False)
    assert zkteco.adults_only is True and zkteco.profile.value in ("pipl", "gdpr")


@pytest.mark.promise("P29")
def test_zkteco_datastores_span_regions_with_transfer_mechanisms() -> None:
    m = _loaded("zkteco").manifest
    regions = {s.region for s in m.datastores}
    assert {"CN", "EU", "US", "SG"} <= regions
    mechanisms = {t.destination: t.mechanism for a in m.processing_activities for t in a.transfers}
    assert all(mechanisms.get(r) for r in regions - {"CN"})
