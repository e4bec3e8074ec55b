"""Applying a manifest to the store (declarative, idempotent, versioned) and reading it back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from privet.audit.service import record
from privet.datamap import rows
from privet.datamap.loaded import LIST_SECTIONS, LoadedManifest
from privet.datamap.manifest import load_manifest
from privet.datamap.models import DatamapTable, DatamapVersion
from privet.datamap.schemas import Manifest
from privet.datamap.validate import ensure_valid
from privet.db.memo import forget, per_transaction
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, NotFound

SECTIONS = ("organisation", *LIST_SECTIONS)
_APPLY_LOCK = 0x707269766574646D  # "privetdm": the PostgreSQL advisory lock that serialises applies
OBJECT_TYPES = {
    "organisation": "organisation",
    "systems": "system",
    "datastores": "datastore",
    "datasets": "dataset",
    "processing_activities": "processing_activity",
    "recognizers": "recognizer",
}


def canonical(manifest: Manifest) -> dict:
    """The manifest as plain JSON with defaults filled, `None`s dropped and keyed sections sorted by key."""
    doc = manifest.model_dump(mode="json", exclude_none=True)
    for section in LIST_SECTIONS:
        doc[section] = sorted(doc[section], key=lambda item: item["key"])
    return doc


def sha256_of(document: dict) -> str:
    """The hash that tells whether a data map changed."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class SectionDiff:
    """Keys created, updated and deleted in one section."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass
class ManifestDiff:
    """What applying `b` over `a` changes, section by section."""

    sections: dict[str, SectionDiff]
    taxonomy: str | None = None  # "created", "updated" or "deleted" when the `taxonomy:` section changed

    @property
    def taxonomy_changed(self) -> bool:
        return self.taxonomy is not None

    @property
    def empty(self) -> bool:
        return not self.taxonomy_changed and not any(
            d.created or d.updated or d.deleted for d in self.sections.values()
        )

    def counts(self) -> dict[str, int]:
        """Totals of created, updated and deleted objects (the taxonomy section counts as one)."""
        return {
            op: sum(len(getattr(d, op)) for d in self.sections.values()) + (self.taxonomy == op)
            for op in ("created", "updated", "deleted")
        }

    def as_dict(self) -> dict:
        """The change summary stored with a version (keys only)."""
        out = {s: {op: keys for op, keys in vars(d).items() if keys} for s, d in self.sections.items()}
        taxonomy = {"taxonomy": self.taxonomy} if self.taxonomy else {}
        return {"taxonomy_changed": self.taxonomy_changed, **taxonomy, **{s: v for s, v in out.items() if v}}

    def lines(self) -> list[str]:
        """Human lines such as `+ datasets.crm`, `~ systems.web`, `- datastores.old`, `+ taxonomy`."""
        out = [
            f"{_MARKS[op]} {section}.{key}"
            for section, d in self.sections.items()
            for op in ("created", "updated", "deleted")
            for key in getattr(d, op)
        ]
        return out + ([f"{_MARKS[self.taxonomy]} taxonomy"] if self.taxonomy else [])


_MARKS = {"created": "+", "updated": "~", "deleted": "-"}


def _objects(manifest: Manifest | None, section: str) -> dict[str, dict]:
    if manifest is None:
        return {}
    items = [manifest.organisation] if section == "organisation" else getattr(manifest, section)
    return {o.key: o.model_dump(mode="json", exclude_none=True) for o in items if o is not None}


def diff(a: Manifest | None, b: Manifest | None) -> ManifestDiff:
    """Compare two manifests object by object (by key)."""
    sections = {}
    for section in SECTIONS:
        old, new = _objects(a, section), _objects(b, section)
        sections[section] = SectionDiff(
            created=sorted(new.keys() - old.keys()),
            deleted=sorted(old.keys() - new.keys()),
            updated=sorted(k for k in new.keys() & old.keys() if new[k] != old[k]),
        )
    was, now = (a.taxonomy if a else None) or None, (b.taxonomy if b else None) or None  # `{}` is no taxonomy
    taxonomy = None if was == now else "created" if was is None else "deleted" if now is None else "updated"
    return ManifestDiff(sections, taxonomy)


@dataclass
class ApplyResult:
    """The outcome of `apply`: what changed and the version written (None when nothing was written)."""

    diff: ManifestDiff
    version: int | None
    changed: bool
    dry_run: bool = False


def version_key(session: Session) -> tuple | None:
    """(number, sha256, store URL) of the applied map, or None before the first apply: the key of caches built
    from the map (plans, explanations). Read once per transaction."""

    def read() -> tuple | None:
        row = session.execute(
            select(DatamapVersion.number, DatamapVersion.sha256).order_by(DatamapVersion.number.desc()).limit(1)
        ).first()
        bind = session.get_bind()
        return (row[0], row[1], str(getattr(bind, "url", None) or bind.engine.url)) if row else None

    return per_transaction(session, "datamap.version_key", read)


def latest_version(session: Session) -> DatamapVersion | None:
    """The newest applied version, if any."""
    return session.execute(select(DatamapVersion).order_by(DatamapVersion.number.desc()).limit(1)).scalar()


_built: dict[tuple, Manifest] = {}


def current(session: Session) -> Manifest | None:
    """The applied data map rebuilt from the normalised tables (None before the first apply). Rebuilt once per
    applied version (its rows change only through `apply`, which writes a new version and forgets the memo), and
    each transaction gets its own copy: nothing a transaction does to its manifest reaches another's."""
    return per_transaction(session, "datamap.current", lambda: _copy_of_current(session))


def _copy_of_current(session: Session) -> Manifest | None:
    key = version_key(session)
    if key is None:
        return None
    built = _built.get(key)
    if built is None:
        built = _rebuild(session)
        if len(_built) > 16:
            _built.clear()
        _built[key] = built
    return built.model_copy(deep=True)


def _rebuild(session: Session) -> Manifest:
    latest = latest_version(session)
    assert latest is not None  # called only once version_key found a version
    # the taxonomy extension and the custom recognizers live in the version's document only
    parts: dict = {"taxonomy": latest.document.get("taxonomy"), "recognizers": latest.document.get("recognizers", [])}
    for section, cls in rows.ROW_CLASSES.items():
        stmt = select(cls).order_by(cls.key)
        if section == "datasets":  # their tables and fields in two more queries, not one per table
            stmt = stmt.options(selectinload(cls.tables).selectinload(DatamapTable.fields))
        found = [rows.to_schema(section, r) for r in session.execute(stmt).scalars()]
        parts[section] = (found[0] if found else None) if section == "organisation" else found
    names = {a["key"]: a["names"] for a in latest.document.get("processing_activities", []) if a.get("names")}
    for activity in parts["processing_activities"]:  # names by language live in the version's document only
        activity.names = dict(names.get(activity.key, {}))
    return Manifest(**parts)


def apply(
    session: Session, manifest: Manifest, *, actor: str, dry_run: bool = False, loaded: LoadedManifest | None = None
) -> ApplyResult:
    """Make the store hold exactly `manifest`; refuse (nothing changed) when it has problems."""
    ensure_valid(loaded or LoadedManifest(manifest, source="manifest"))
    if not dry_run:
        _lock_applies(session)
    latest = latest_version(session)
    changes = diff(current(session), manifest)
    if changes.empty or dry_run:
        return ApplyResult(
            changes, None if dry_run else (latest.number if latest else None), not changes.empty, dry_run
        )
    number = (latest.number if latest else 0) + 1
    try:  # without the lock (MySQL), a concurrent apply shows up as a duplicate version or object key
        _write_rows(session, manifest, changes)
        if changes.taxonomy_changed:
            from privet.taxonomy.service import set_extension

            set_extension(session, manifest.taxonomy, actor=actor)
        document = canonical(manifest)
        session.add(
            DatamapVersion(
                number=number,
                applied_at=utcnow(),
                actor=actor,
                sha256=sha256_of(document),
                document=document,
                summary=changes.as_dict(),
            )
        )
        session.flush()
        forget(session)  # this transaction now sees the new version
    except IntegrityError:
        raise Conflict("Another apply finished first", "run the command again") from None
    for section, d in changes.sections.items():
        for op in ("created", "updated", "deleted"):
            for key in getattr(d, op):
                record(
                    session,
                    actor=actor,
                    action=f"datamap.{OBJECT_TYPES[section]}.{op}",
                    object_type=OBJECT_TYPES[section],
                    object_id=key,
                    details={"version": number},
                )
    record(
        session,
        actor=actor,
        action="datamap.applied",
        object_type="datamap_version",
        object_id=str(number),
        details={"version": number, **changes.counts(), "taxonomy_changed": changes.taxonomy_changed},
    )
    session.flush()
    return ApplyResult(changes, number, True)


def _lock_applies(session: Session) -> None:
    """Hold the apply lock until commit, so two applies cannot both build on the same latest version."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPLY_LOCK})
    elif dialect == "sqlite":
        # SQLite has one writer at a time, but a deferred transaction that read first cannot write later
        # ("database is locked"); an empty write takes the writer lock now, before the reads.
        session.execute(text("UPDATE datamap_versions SET number = number WHERE 1 = 0"))


def _write_rows(session: Session, manifest: Manifest, changes: ManifestDiff) -> None:
    for section, cls in rows.ROW_CLASSES.items():
        d = changes.sections[section]
        existing = {r.key: r for r in session.execute(select(cls)).scalars()}
        for key in d.deleted:
            session.delete(existing[key])
        session.flush()  # free unique keys before inserting (e.g. a renamed organisation)
        items: list[Any] = [manifest.organisation] if section == "organisation" else getattr(manifest, section)
        for obj in (o for o in items if o is not None and o.key in {*d.created, *d.updated}):
            row = existing.get(obj.key) or cls()
            for column, value in rows.values(section, obj).items():
                setattr(row, column, value)
            if section == "datasets":
                rows.sync_tables(row, obj.tables)
            session.add(row)
    session.flush()


def versions(session: Session) -> list[DatamapVersion]:
    """Every applied version, oldest first."""
    return list(session.execute(select(DatamapVersion).order_by(DatamapVersion.number)).scalars())


def version(session: Session, number: int) -> DatamapVersion:
    """One version by number."""
    found = session.get(DatamapVersion, number)
    if found is None:
        count = session.execute(select(func.count()).select_from(DatamapVersion)).scalar_one()
        raise NotFound(
            f"No data map version {number}",
            f"versions run from 1 to {count}" if count else "apply a data map first: privet datamap apply PATH",
        )
    return found


def manifest_of(row: DatamapVersion) -> Manifest:
    """The manifest stored with a version."""
    return Manifest.model_validate(row.document)


def validate_and_apply(session: Session, path: Path, *, actor: str, dry_run: bool = False) -> ApplyResult:
    """Load the manifest file or folder, check it, and apply it (the CLI and the demo loader use this)."""
    loaded = load_manifest(Path(path))
    return apply(session, loaded.manifest, actor=actor, dry_run=dry_run, loaded=loaded)
