"""The individual explanation (P14): which kinds of personal information are held about a person, for which
purposes and on which legal basis, shared with whom, kept how long, from which sources, stored where.

Built from the data map only (never from row values), so it carries no personal data: the access package
shows it next to the rows, and an explanation request gets it on its own.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import SimpleNamespace

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from privet.datamap import contacts
from privet.datamap import sources as provenance
from privet.datamap.models import (
    DatamapActivity,
    DatamapDataset,
    DatamapDatastore,
    DatamapOrganisation,
    DatamapTable,
)
from privet.kit.durations import Duration
from privet.taxonomy.service import effective

LANGUAGES = ("en", "zh_CN")


def language(value: str | None) -> str:
    """`en` or `zh_CN` (zh, zh-CN, zh-Hans → zh_CN; anything else → en): reports never fail over a language."""
    return "zh_CN" if (value or "").strip().lower().replace("-", "_").startswith("zh") else "en"


@cache
def texts(lang: str) -> dict:
    """The report's text catalogue (`report_templates/<lang>.yaml`)."""
    source = resources.files("privet.requests.packages") / "report_templates" / f"{language(lang)}.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def term(lang: str, key: str, section: str = "terms") -> str:
    """A glossary name for a recipient, processor, source, region or mechanism key; the key made readable else."""
    return texts(lang).get(section, {}).get(key) or key.replace("_", " ")


def duration_text(lang: str, iso: str) -> str:
    """`P3Y` → "3 years" / "3年"; unparsable text is returned as it is."""
    try:
        d = Duration.parse(iso)
    except ValueError:
        return iso
    units = texts(lang)["duration_units"]
    parts = [units[u][0 if n == 1 else 1].format(n=n) for u, n in (("Y", d.years), ("M", d.months), ("D", d.days)) if n]
    return texts(lang)["duration_join"].join(parts) or units["D"][1].format(n=0)


def retention_text(lang: str, retention: dict | None) -> str | None:
    """An activity's retention in plain words, e.g. "3 years after the contract ends" / "合同终止后3年"."""
    if not retention:
        return None
    t = texts(lang)
    trigger = term(lang, retention.get("trigger") or "collection", "triggers")
    if retention.get("duration"):
        return t["retention_text"].format(duration=duration_text(lang, retention["duration"]), trigger=trigger)
    return t["retention_until"].format(trigger=trigger)


def _overlaps(a: str, b: str) -> bool:
    """Dotted categories overlap when one is the other or lies beneath it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _named(lang: str, keys: list[str], section: str = "terms") -> list[dict]:
    return [{"key": k, "name": term(lang, k, section)} for k in keys]


def _held(
    datasets: list[SimpleNamespace], found: dict[str, dict[str, int]] | None
) -> tuple[dict[str, list[tuple[SimpleNamespace, int | None]]], list[dict]]:
    """Dataset key → [(table, rows found)] where the subject's rows were found, and found tables not in the map."""
    held: dict[str, list[tuple[SimpleNamespace, int | None]]] = {}
    if found is None:  # no search result: explain the whole data map
        for ds in datasets:
            held[ds.key] = [(t, None) for t in ds.tables]
        return held, []
    where = {(ds.datastore_key, t.name): (ds, t) for ds in datasets for t in ds.tables}
    unmapped = []
    for store, tables in sorted(found.items()):
        for table, count in sorted(tables.items()):
            if not count:
                continue
            if (store, table) in where:
                ds, t = where[(store, table)]
                held.setdefault(ds.key, []).append((t, count))
            else:
                unmapped.append({"datastore": store, "table": table, "rows": count})
    return held, unmapped


@dataclass(frozen=True)
class MapView:
    """What explanations read of the applied data map, as plain values: datasets (with tables and fields),
    activities and the organisation. Built once per map version (loading it is most of an explanation's cost)."""

    datasets: list[SimpleNamespace]
    activities: list[SimpleNamespace]
    organisation: dict | None
    regions: dict[str, str] = field(default_factory=dict)  # datastore key → region


_views: dict[tuple, MapView] = {}
_views_lock = threading.Lock()


def _plain_copy(row: object, names: tuple[str, ...], **extra: object) -> SimpleNamespace:
    return SimpleNamespace(**{n: getattr(row, n) for n in names}, **extra)


def map_view(session: Session) -> MapView:
    """The applied map for explanations, cached per version (read from the store when nothing is applied yet)."""
    from privet.datamap.service import latest_version, version_key

    key = version_key(session)
    view = _views.get(key) if key is not None else None
    if view is not None:
        return view
    datasets = [
        _plain_copy(
            ds,
            ("key", "datastore_key", "description", "sources"),
            tables=[
                _plain_copy(t, ("name", "description"), fields=[_plain_copy(f, ("name", "category")) for f in t.fields])
                for t in ds.tables
            ],
        )
        for ds in session.scalars(
            select(DatamapDataset)
            .options(selectinload(DatamapDataset.tables).selectinload(DatamapTable.fields))
            .order_by(DatamapDataset.key)
        )
    ]
    latest = latest_version(session)
    names = {
        a["key"]: a.get("names") or {} for a in (latest.document if latest else {}).get("processing_activities", [])
    }
    activities = [
        _plain_copy(
            a,
            (
                "key",
                "name",
                "description",
                "purpose",
                "legal_basis",
                "required_categories",
                "optional_categories",
                "datasets",
                "retention",
                "recipients",
                "processors",
                "storage_locations",
                "transfers",
            ),
            by_language=names.get(a.key, {}),
        )
        for a in session.scalars(select(DatamapActivity).order_by(DatamapActivity.key))
    ]
    org = session.scalars(select(DatamapOrganisation)).first()
    regions = dict(session.execute(select(DatamapDatastore.key, DatamapDatastore.region)).all())
    view = MapView(
        datasets,
        activities,
        {"name": org.name, "responsible": org.responsible, "contacts": list(org.contacts or [])} if org else None,
        regions,
    )
    if key is not None:
        with _views_lock:
            if len(_views) > 32:
                _views.clear()
            _views[key] = view
    return view


def explain(
    session: Session, found: dict[str, dict[str, int]] | None, language_code: str, region: str | None = None
) -> dict:
    """The explanation for `found` ({datastore key: {table: rows found}}), or for the whole data map when None.
    `region`: the person's region, which chooses the contact named (P41); the contacts of the other regions where
    their data is kept are listed too."""
    lang = language(language_code)
    taxonomy = effective(session)

    def category(key: str) -> dict:
        return {"key": key, "name": taxonomy.label("categories", key, lang), "sensitive": taxonomy.sensitive_kind(key)}

    def basis(key: str) -> str:
        return taxonomy.label("legal_bases", key, lang)

    view = map_view(session)
    datasets = view.datasets
    held, unmapped = _held(datasets, found)
    out_datasets: list[dict] = []
    held_categories: set[str] = set()
    sources: list[dict] = []  # one per (key, third party, legal basis)
    by_dataset: dict[str, set[str]] = {}
    for ds in (d for d in datasets if d.key in held):
        cats: set[str] = set()
        tables = []
        for table, rows in held[ds.key]:
            fields = [
                {
                    "name": f.name,
                    "category": f.category,
                    "category_name": taxonomy.label("categories", f.category, lang) if f.category else None,
                }
                for f in table.fields
            ]
            cats |= {f.category for f in table.fields if f.category}
            tables.append({"name": table.name, "description": table.description, "rows": rows, "fields": fields})
        by_dataset[ds.key] = cats
        held_categories |= cats
        mine = [_source(lang, src, category, basis) for src in provenance.covering(ds.sources, cats)]
        for src in mine:
            _merge_source(sources, src)
        out_datasets.append(
            {
                "key": ds.key,
                "datastore": ds.datastore_key,
                "description": ds.description,
                "tables": tables,
                "categories": [category(c) for c in sorted(cats)],
                "sources": mine,
            }
        )

    purposes: list[dict] = []
    for act in view.activities:
        declared = [*(act.required_categories or []), *(act.optional_categories or [])]
        shared = set(act.datasets or []) & set(held)
        if shared:
            pool = set().union(*(by_dataset[k] for k in shared))
            uses = {c for c in pool if any(_overlaps(c, d) for d in declared)} if declared else pool
        elif not act.datasets:  # an activity that names categories only (sharing, disclosure): match by category
            uses = {c for c in held_categories if any(_overlaps(c, d) for d in declared)}
            if not uses:
                continue
        else:
            continue
        purposes.append(
            {
                "activity": {
                    "key": act.key,
                    "name": act.by_language.get(lang) or act.name,
                    "description": act.description,
                },
                "purpose": {"key": act.purpose, "name": taxonomy.label("purposes", act.purpose, lang)},
                "legal_basis": {"key": act.legal_basis, "name": taxonomy.label("legal_bases", act.legal_basis, lang)},
                "categories": [category(c) for c in sorted(uses)],
                "retention": {**(act.retention or {}), "text": retention_text(lang, act.retention)},
                "recipients": _named(lang, act.recipients or []),
                "processors": _named(lang, act.processors or []),
                "storage_locations": _named(lang, act.storage_locations or [], "regions"),
                "transfers": [_transfer(lang, t) for t in act.transfers or []],
            }
        )

    def union(field: str) -> list[dict]:
        seen: dict[str, dict] = {}
        for p in purposes:
            for item in p[field]:
                seen.setdefault(item.get("key") or str(item), item)
        return list(seen.values())

    return {
        "language": lang,
        "scope": "data_map" if found is None else "found",
        "organisation": copy.deepcopy(view.organisation),
        "datasets": out_datasets,
        "unmapped": unmapped,
        "categories": [category(c) for c in sorted(held_categories)],
        "purposes": purposes,
        "recipients": union("recipients"),
        "processors": union("processors"),
        "sources": [_source_text(lang, src) for src in sources],
        **_contacts(lang, view, held, region),
        "storage_locations": union("storage_locations"),
        "transfers": union("transfers"),
    }


def _transfer(lang: str, transfer: dict) -> dict:
    dest, mech, to = transfer.get("destination"), transfer.get("mechanism"), transfer.get("recipient")
    return {
        "key": f"{dest}:{to}:{mech}",
        "destination": dest,
        "destination_name": term(lang, dest or "", "regions"),
        "mechanism": mech,
        "mechanism_name": term(lang, mech, "mechanisms") if mech else None,
        "recipient": to,
        "recipient_name": term(lang, to) if to else None,
    }


def _source(lang: str, source: dict, category: Callable[[str], dict], basis: Callable[[str], str]) -> dict:
    """One source of a dataset as the explanation shows it: what it is, the categories it brought, the third party
    named, the legal basis for obtaining them and the sentence saying where they were received from."""
    key = source.get("legal_basis")
    return _source_text(
        lang,
        {
            "key": source["key"],
            "name": term(lang, source["key"]),
            "third_party": source["third_party"],
            "legal_basis": {"key": key, "name": basis(key)} if key else None,
            "categories": [category(c) for c in source["brought"]],
            "description": source.get("description"),
        },
    )


def _merge_source(sources: list[dict], src: dict) -> None:
    """Add a dataset's source to the explanation's list, one entry per (key, third party, legal basis)."""
    basis = (src["legal_basis"] or {}).get("key")
    for known in sources:
        if (known["key"], known["third_party"], (known["legal_basis"] or {}).get("key")) == (
            src["key"],
            src["third_party"],
            basis,
        ):
            have = {c["key"] for c in known["categories"]}
            known["categories"] = sorted(
                [*known["categories"], *(c for c in src["categories"] if c["key"] not in have)], key=lambda c: c["key"]
            )
            return
    sources.append(copy.deepcopy(src))


def _source_text(lang: str, src: dict) -> dict:
    """The source with its sentence: "Phone number, Name: received from your registration (legal basis: …)"."""
    t = texts(lang)
    where = t["source_third_party"].format(third_party=src["third_party"]) if src["third_party"] else src["name"]
    text = t["source_text"].format(categories=t["list_join"].join(c["name"] for c in src["categories"]), source=where)
    if src["legal_basis"]:
        text += t["source_basis"].format(basis=src["legal_basis"]["name"])
    return {**src, "text": text}


def _contacts(lang: str, view: MapView, held: dict, region: str | None) -> dict:
    """The contact for the person's region, and the regional contacts of the other places their data is kept."""
    org = view.organisation
    if not org:
        return {"contact": None, "contacts": []}
    regional = org.get("contacts") or []
    chosen = contacts.choose(org.get("responsible") or {}, regional, region)
    places = (view.regions.get(ds.datastore_key) for ds in view.datasets if ds.key in held)
    stored = {place for place in places if place is not None}
    others: list[dict] = []
    for place in sorted(stored):
        contact = contacts.choose({}, regional, place)
        if (
            contact["region"]
            and contact["region"] != chosen["region"]
            and all(o["region"] != contact["region"] for o in others)
        ):
            others.append(
                {
                    **contact,
                    "region_name": term(lang, contact["region"], "regions"),
                    "text": texts(lang)["contact_region"].format(region=term(lang, place, "regions")),
                }
            )
    return {"contact": chosen, "contacts": others}
