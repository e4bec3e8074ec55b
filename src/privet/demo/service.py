"""Loading a demo company: generate its customer databases, register their secrets, apply its data map."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from privet.demo.generator import Generated, company, fill
from privet.demo.guardians import link_demo_guardians
from privet.kit.errors import InvalidInput
from privet.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.datamap.schemas import Manifest
    from privet.datamap.service import ApplyResult

DEFAULT_CUSTOMERS = 200


def datamap_path(settings: Settings, company_key: str) -> Path:
    """The folder holding the company's data map YAML."""
    path = Path(settings.examples_dir) / company_key / "datamap"
    if not path.is_dir():
        raise InvalidInput(
            f"The demo data map for {company_key!r} is missing at {path}",
            "set PRIVET_EXAMPLES_DIR to the repository's examples/ folder",
        )
    return path


def demo_urls(settings: Settings, company_key: str, datastore_url: str | None = None) -> dict[str, str]:
    """Datastore key → URL: the given URL for all, or one SQLite file each under `<data_dir>/demo/<company>/`."""
    stores = company(company_key).datastores()
    if datastore_url:
        return dict.fromkeys(stores, datastore_url)
    folder = (Path(settings.data_dir) / "demo" / company_key).resolve()
    return {key: f"sqlite:///{(folder / f'{key}.sqlite').as_posix()}" for key in stores}


def load_demo(
    settings: Settings,
    engine: Engine,
    company_key: str,
    *,
    datastore_url: str | None = None,
    customers: int = DEFAULT_CUSTOMERS,
    reset: bool = False,
) -> str:
    """Generate (or reuse) the demo databases, register their secrets and apply the data map; returns a summary."""
    from privet.audit.service import record
    from privet.datamap.manifest import load_manifest
    from privet.datamap.secrets import write_secrets
    from privet.datamap.service import validate_and_apply
    from privet.datamap.validate import ensure_valid
    from privet.db.migrate import require_current
    from privet.db.store import store_session
    from privet.demo.consents import import_opt_ins

    comp = company(company_key)
    path = datamap_path(settings, company_key)
    loaded = load_manifest(path)
    ensure_valid(loaded)  # a broken data map or store fails before any database is touched
    require_current(engine)
    urls = demo_urls(settings, company_key, datastore_url)
    generated = fill(company_key, urls, customers=customers, reset=reset, matched=_matched(loaded.manifest))
    with store_session(settings, engine=engine) as session:
        result = validate_and_apply(session, path, actor="demo")
        publish_notices(session, settings, company_key)
        registers = apply_registers(session, settings, company_key)
        opt_ins = import_opt_ins(session, settings, company_key, urls)  # the CRM's marketing opt-ins as consent
        people = _seed_people(session, settings, company_key, loaded.manifest, urls)  # jurisdictions (P41)
        record(
            session,
            actor="demo",
            action="demo.loaded",
            object_type="demo",
            object_id=company_key,
            details={
                "datastores": sorted(urls),
                "created": generated.created,
                "customers": customers,
                "rows": sum(generated.counts.values()),
                "datamap_version": result.version,
                "register_changes": len(registers),
            },
        )
        # written last, inside the unit of work: if this fails, the data map change is rolled back too
        write_secrets(settings, {comp.secret(key): url for key, url in urls.items()})
    summary = _summary(company_key, generated, result, None if datastore_url else urls)
    summary += f"\nMarketing opt-ins imported as consent records: {opt_ins}." if opt_ins else ""
    if people:
        summary += "\nPeople by the law their requests get: " + ", ".join(f"{law} {n}" for law, n in people.items())
    summary += f"\nGuardians verified for {link_demo_guardians(settings, engine)} children found in the datastores."
    history = "".join(f"\n  {line[2:]}" for line in registers if line.startswith("* history"))  # shares shown
    return summary + (
        f"\nRegisters applied: {len(registers)} change(s).{history}" if registers else "\nRegisters unchanged."
    )


def _seed_people(
    session: Session, settings: Settings, company_key: str, manifest: Manifest, urls: dict[str, str]
) -> dict:
    """A few of the company's people in Privet, located in their jurisdictions (`privet.demo.people`, P41); the
    datastores are reached through their URLs before the secrets file is written."""
    from privet.demo.people import seed_people

    comp = company(company_key)
    reach = settings.model_copy(
        update={"secrets": {**settings.secrets, **{comp.secret(key): url for key, url in urls.items()}}}
    )
    return seed_people(session, reach, manifest, urls, company_key=company_key)


def apply_registers(session: Session, settings: Settings, company_key: str) -> list[str]:
    """Apply the company's registers file (`examples/<company>/registers.yaml`: its policy's sharing grounds,
    processors and recipients with their agreements, and on a store without sharing events its history of shares,
    disclosures and a purpose change), removing entries another demo left (P9, P38, P39)."""
    from privet.kit.crypto import Keyring
    from privet.registers.config import apply_file

    path = Path(settings.examples_dir) / company_key / "registers.yaml"
    if not path.is_file():
        return []
    return apply_file(session, path, actor="demo", prune=True, keyring=Keyring.from_settings(settings)).lines()


def publish_notices(session: Session, settings: Settings, company_key: str) -> list[str]:
    """Publish the versions of the company's notices (`examples/<company>/notices/notices.yaml`, or `policy/`) not
    yet published."""
    from datetime import date

    from privet.kit import yamlio
    from privet.notices import service as notices

    base = Path(settings.examples_dir) / company_key
    folder = next((base / name for name in ("notices", "policy") if (base / name / "notices.yaml").is_file()), None)
    if folder is None:
        return []
    published = []
    for notice in yamlio.load_file(folder / "notices.yaml")["notices"]:
        counts = notices.version_counts(session)
        done = next((counts.get(n.id, 0) for n in notices.list_notices(session) if n.key == notice["key"]), 0)
        for version in notice["versions"][done:]:
            texts = {lang: (folder / name).read_text(encoding="utf-8") for lang, name in version["files"].items()}
            notices.publish(
                session,
                key=notice["key"],
                kind=notice.get("kind", "policy"),
                product=notice.get("product"),
                texts=texts,
                effective_date=date.fromisoformat(str(version["effective"])),
                purposes=notice.get("purposes"),
                material=version.get("material"),
                actor="demo",
            )
            published.append(notice["key"])
    return published


def _matched(manifest: Manifest) -> dict[str, list[tuple[str, str, str]]]:
    """{datastore: [(table, column, match mode)]} of the identity fields compared as an expression."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for dataset in manifest.datasets:
        for table in dataset.tables:
            for f in table.fields:
                if f.identity and f.effective_match.value != "exact":
                    out.setdefault(dataset.datastore, []).append((table.name, f.name, f.effective_match.value))
    return out


def load_demo_if_empty(settings: Settings, engine: Engine, company_key: str) -> str:
    """Load the demo unless a data map is already applied (then change nothing and say plainly what is there:
    running `make run` again is the ordinary case, not an error)."""
    from sqlalchemy import select

    from privet.datamap.models import DatamapOrganisation
    from privet.datamap.service import latest_version
    from privet.db.store import store_session

    company(company_key)
    with store_session(settings, engine=engine) as session:
        latest = latest_version(session)
        organisation = session.execute(select(DatamapOrganisation.key, DatamapOrganisation.name)).first()
    if latest is None:
        return load_demo(settings, engine, company_key)
    if organisation is not None and organisation.key == company_key:
        return (
            f"Already set up: the store and the {organisation.name} company with its data map (version "
            f"{latest.number}) are kept as they are."
        )
    held = f"{organisation.name}'s data map" if organisation is not None else "a data map"
    return (
        f"Already set up: the store holds {held} (version {latest.number}), kept as it is; the {company_key} "
        f"demo is not mixed into it. To load the demo anyway: `privet demo --company {company_key}`."
    )


def _summary(company_key: str, generated: Generated, result: ApplyResult, sqlite_urls: dict[str, str] | None) -> str:
    lines = [f"Demo company {company_key}:"]
    for key, tables in generated.tables.items():
        state = "generated" if key in generated.created else "already there, kept"
        lines.append(f"  {key:<14} {sum(tables.values()):>7,} rows in {len(tables)} tables ({state})")
    if sqlite_urls:
        folder = Path(next(iter(sqlite_urls.values())).removeprefix("sqlite:///")).parent
        lines.append(f"  databases in {folder}")
    if result.changed:
        counts = result.diff.counts()
        lines.append(
            f"Data map applied: version {result.version} ({counts['created']} created, "
            f"{counts['updated']} updated, {counts['deleted']} deleted)."
        )
    else:
        lines.append(f"Data map unchanged (version {result.version}).")
    return "\n".join(lines)
