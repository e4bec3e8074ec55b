"""Access packages: the zip answering an access, portability or explanation request, stored encrypted, handed
out through an expiring, download-limited link, and deleted after expiry.

The zip holds `data.json` (everything, machine-readable: portability), one CSV per datastore table
(`<datastore>/<table>.csv`, UTF-8 with a BOM so spreadsheet programs read Chinese correctly), `report.html`
(readable, in the subject's language, no external resources) and `README.txt`. Only the sha256 of the download
token is stored; the blob is AES-GCM encrypted with a context naming the package, so a blob cannot be swapped
onto another package's row. The last allowed download drops the blob at once; `purge_expired` drops the rest.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.csvsafe import safe_text
from privet.kit.errors import Forbidden, NotFound, PrivetError
from privet.kit.ids import new_id
from privet.requests.models import AccessPackage, DsrRequest
from privet.requests.packages.explain import language, texts
from privet.settings import Settings
from privet.taxonomy.loader import default_taxonomy

if TYPE_CHECKING:
    from jinja2 import Environment

SYSTEM_ACTOR = "system:packages"
FORMAT = "privet-access-package"
HTML_ROWS = 500  # per table in report.html; the CSV and data.json always hold every row
DOWNLOAD_PATH = "/api/v1/public/packages/"
_UNSAFE_PATH = re.compile(r"[^A-Za-z0-9_.-]+")
_HINT_NEW = "ask for a new copy: file a new access request from the privacy centre"


class Gone(PrivetError):
    """Something existed but is no longer available (an expired or used-up download link): HTTP 410."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail, hint, [], 410, "Gone")


# --- building the zip -----------------------------------------------------------------------------------------
def _plain(value: object) -> object:
    """A JSON-safe copy of a fetched value (dates as ISO 8601, decimals as text, bytes as base64)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value) if not isinstance(value, Decimal) else format(value, "f")


def _cell(value: object) -> str:
    """A CSV/HTML cell; text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return safe_text(str(value).lower() if isinstance(value, bool) else str(value))


def _columns(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    columns = _columns(rows)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8 (Chinese) correctly


def _safe(name: str) -> str:
    return _UNSAFE_PATH.sub("_", name).strip("._") or "table"


def csv_name(datastore: str, table: str, folder: str = "") -> str:
    """The path of a table's CSV inside the zip (reference data in a `reference/` folder of its datastore)."""
    return f"{_safe(datastore)}/{_safe(folder) + '/' if folder else ''}{_safe(table)}.csv"


def _when(value: object) -> str:
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _sections(rows: dict[str, dict[str, list[dict]]], explanation: dict, folder: str = "") -> list[dict]:
    """Per found table: where it belongs in the data map, its columns named by category, the rows to show."""
    known = {(ds["datastore"], t["name"]): (ds, t) for ds in explanation.get("datasets", []) for t in ds["tables"]}
    out = []
    for store, tables in rows.items():
        for table, found in tables.items():
            if not found:
                continue
            ds, info = known.get((store, table), ({}, {}))
            labels = {f["name"]: f.get("category_name") for f in info.get("fields", [])}
            columns = _columns(found)
            out.append(
                {
                    "datastore": store,
                    "dataset": ds.get("key"),
                    "dataset_description": ds.get("description"),
                    "table": table,
                    "description": info.get("description"),
                    "count": len(found),
                    "columns": [{"name": c, "label": labels.get(c)} for c in columns],
                    "rows": [[_cell(r.get(c)) for c in columns] for r in found[:HTML_ROWS]],
                    "file": csv_name(store, table, folder),
                }
            )
    return out


@cache
def _environment() -> Environment:  # jinja2 is imported lazily
    from jinja2 import Environment, PackageLoader, select_autoescape

    # lenient undefined: meta and the organisation profile have optional keys the template simply skips
    return Environment(
        loader=PackageLoader("privet.requests.packages", "report_templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _extras_view(extras: dict, explanation: dict, lang: str) -> dict:
    """The report's parts beyond the person's rows: withheld fields, links named, reference data, unsearched."""
    taxonomy = default_taxonomy()
    withheld = [
        {**w, "label": taxonomy.label("categories", w.get("category") or "", lang)} for w in extras.get("withheld", [])
    ]
    links = [
        {
            **link,
            "columns": ", ".join(link.get("columns", [])),
            "count": len(link.get("keys", [])),
            "shown": ", ".join("/".join(str(v) for v in key) for key in link.get("keys", [])[:20])
            + (" …" if len(link.get("keys", [])) > 20 else ""),
        }
        for link in extras.get("links", [])
    ]
    reference = _sections(extras.get("reference", {}), explanation, folder="reference")
    return {"withheld": withheld, "links": links, "reference": reference, "unsearched": extras.get("unsearched", [])}


def render_report(
    meta: dict, rows: dict[str, dict[str, list[dict]]], explanation: dict, lang: str, extras: dict | None = None
) -> str:
    """The human-readable report.html in `lang`."""
    t = texts(lang)
    sections = _sections(rows, explanation)
    organisation = meta.get("organisation") or (explanation.get("organisation") or {}).get("name")
    values = {"reference": meta.get("reference", ""), "organisation": organisation or ""}
    return (
        _environment()
        .get_template("report.html")
        .render(
            t=t,
            meta=meta,
            explanation=explanation,
            sections=sections,
            organisation=organisation,
            title=t["title"].format(**values) if organisation else t["title_no_org"],
            intro=t["intro"].format(**values),
            type_name=t["types"].get(meta.get("type", ""), meta.get("type", "")),
            received=_when(meta.get("received_at")),
            generated=_when(meta.get("generated_at") or utcnow()),
            identity=default_taxonomy().label("identity_types", meta["identity_type"], lang)
            if meta.get("identity_type")
            else None,
            total=sum(s["count"] for s in sections),
            html_rows=HTML_ROWS,
            extra=_extras_view(extras or {}, explanation, lang),
        )
    )


def build_zip(
    meta: dict,
    rows: dict[str, dict[str, list[dict]]],
    explanation: dict,
    language_code: str,
    extras: dict | None = None,
) -> bytes:
    """The package: data.json, one CSV per datastore table, report.html and README.txt.

    `meta` describes the request (reference, type, received_at, generated_at, identity_type; optional
    organisation, agent) and must not hold identity values; `rows` is {datastore: {table: [row, ...]}}, the
    person's own rows. `extras` may add `withheld` (fields held but never shown: credentials), `links` (other
    people's or shared rows the person's rows point at, named by table and key), `reference` (non-personal rows
    pointed at, {datastore: {table: rows}}) and `unsearched` (tables no identity reaches).
    No rows at all gives an honest empty package, not an error."""
    extras = extras or {}
    lang = language(language_code)
    t = texts(lang)
    generated = meta.get("generated_at") or utcnow()
    meta = {**meta, "generated_at": generated}
    counts = {store: {table: len(found) for table, found in tables.items()} for store, tables in rows.items()}
    total = sum(n for tables in counts.values() for n in tables.values())
    document = {
        "format": FORMAT,
        "version": 2,
        "language": lang,
        "request": _plain(meta),
        "summary": {"rows": total, "tables": counts},
        "data": _plain(rows),
        "withheld": extras.get("withheld", []),
        "links": _plain(extras.get("links", [])),
        "reference": _plain(extras.get("reference", {})),
        "not_searched": extras.get("unsearched", []),
        "explanation": explanation,
    }
    organisation = meta.get("organisation") or (explanation.get("organisation") or {}).get("name") or ""
    readme = t["readme"].format(
        reference=meta.get("reference", ""), organisation=organisation, generated_at=_when(generated)
    )
    if not total:
        readme += "\n" + t["readme_empty"]
    moment = generated if isinstance(generated, datetime) else utcnow()
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    files = [
        ("README.txt", readme.replace("\n", "\r\n").encode("utf-8-sig")),
        ("report.html", render_report(meta, rows, explanation, lang, extras).encode()),
        ("data.json", _json_document(document)),
    ]
    files += [
        (csv_name(store, table), _csv(found))
        for store, tables in rows.items()
        for table, found in tables.items()
        if found
    ]
    files += [
        (csv_name(store, table, "reference"), _csv(found))
        for store, tables in extras.get("reference", {}).items()
        for table, found in tables.items()
        if found
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # names are UTF-8
            archive.writestr(info, data)
    return buffer.getvalue()


# --- storing and handing out --------------------------------------------------------------------------------
def package_context(package_id: str) -> str:
    """Encryption context of a package's blob: it decrypts only on its own row."""
    return f"dsr:package:{package_id}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def download_url(settings: Settings, token: str) -> str:
    """The link to send the subject (`public_url` + the public download route)."""
    return settings.public_url.rstrip("/") + DOWNLOAD_PATH + token


def store_package(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    zip_bytes: bytes,
    *,
    actor: str = SYSTEM_ACTOR,
) -> tuple[AccessPackage, str]:
    """Encrypt and store the request's package with a new download token (returned, never stored); a package
    already stored for the request is replaced (a rebuilt package gets a fresh link and download count)."""
    package = session.scalars(select(AccessPackage).where(AccessPackage.request_id == request.id)).first()
    replaced = package is not None
    if package is None:
        package = AccessPackage(id=new_id(), request_id=request.id)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    package.created_at, package.expires_at = now, now + timedelta(days=settings.package_days)
    package.max_downloads, package.downloads = settings.package_downloads, 0
    package.token_hash, package.size = _token_hash(token), len(zip_bytes)
    package.sha256 = hashlib.sha256(zip_bytes).hexdigest()
    package.blob_enc, package.purged_at = keyring.encrypt(zip_bytes, context=package_context(package.id)), None
    session.add(package)
    session.flush()
    record(
        session,
        actor=actor,
        action="package.replaced" if replaced else "package.stored",
        object_type="access_package",
        object_id=package.id,
        details={
            "request_id": request.id,
            "size": package.size,
            "expires_at": package.expires_at.isoformat(),
            "max_downloads": package.max_downloads,
        },
    )
    return package, token


def open_package(
    session: Session, keyring: Keyring, token: str, *, subject_id: str | None = None
) -> tuple[AccessPackage, bytes]:
    """The package behind a download token, counting the download. NotFound for an unknown token; Gone once
    expired, purged or downloaded the allowed number of times; Forbidden when `subject_id` (from a subject
    session) is not the request's subject."""
    package = None
    if token and len(token) <= 200:  # longer is no token of ours; do not hash arbitrary input
        package = session.scalars(select(AccessPackage).where(AccessPackage.token_hash == _token_hash(token))).first()
    if package is None:
        raise NotFound("This download link is not valid", "check you copied the whole link from the message")
    request = session.get(DsrRequest, package.request_id)
    if subject_id is not None and (request is None or request.subject_id != subject_id):
        raise Forbidden(
            "This package answers someone else's request",
            "log out of the privacy centre, or verify as the person who made the request",
        )
    data = hand_out(
        session,
        keyring,
        package,
        actor=f"subject:{subject_id}" if subject_id else "public:download-link",
        details={"subject_session": subject_id is not None},
    )
    return package, data


def hand_out(session: Session, keyring: Keyring, package: AccessPackage, *, actor: str, details: dict) -> bytes:
    """The zip of `package` for the requester, counting the download (the caller found the package and checked
    who asks). Gone once expired, purged or downloaded the allowed number of times; the last allowed download
    drops the blob at once. Audited with `details` added."""
    if package.downloads >= package.max_downloads:
        raise Gone(f"This package was already downloaded {package.max_downloads} times, the most allowed", _HINT_NEW)
    now = utcnow()
    if package.blob_enc is None or package.purged_at is not None or now >= package.expires_at:
        raise Gone("This download link has expired and the package was deleted", _HINT_NEW)
    counting = session.execute(  # atomic: two downloads at once cannot both take the last one
        update(AccessPackage)
        .where(AccessPackage.id == package.id, AccessPackage.downloads < AccessPackage.max_downloads)
        .values(downloads=AccessPackage.downloads + 1)
        .execution_options(synchronize_session=False)
    )
    counted = cast(CursorResult[Any], counting).rowcount  # an UPDATE's result is a CursorResult
    session.refresh(package)
    if not counted:
        raise Gone(f"This package was already downloaded {package.max_downloads} times, the most allowed", _HINT_NEW)
    data = keyring.decrypt(package.blob_enc, context=package_context(package.id))
    last = package.downloads >= package.max_downloads
    if last:  # nothing can fetch it again: do not keep it until expiry
        package.blob_enc, package.purged_at = None, now
    record(
        session,
        actor=actor,
        action="package.downloaded",
        object_type="access_package",
        object_id=package.id,
        details={
            "request_id": package.request_id,
            "downloads": package.downloads,
            "max_downloads": package.max_downloads,
            "purged": last,
            **details,
        },
    )
    session.flush()
    return data


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Drop the encrypted blobs of packages past their expiry; returns how many were purged."""
    now = now or utcnow()
    expired = session.execute(
        select(AccessPackage.id, AccessPackage.request_id, AccessPackage.downloads).where(
            AccessPackage.purged_at.is_(None), AccessPackage.expires_at <= now
        )
    ).all()
    if not expired:
        return 0
    session.execute(
        update(AccessPackage)
        .where(AccessPackage.id.in_([row.id for row in expired]))
        .values(blob_enc=None, purged_at=now)
    )
    for row in expired:
        record(
            session,
            actor=SYSTEM_ACTOR,
            action="package.purged",
            object_type="access_package",
            object_id=row.id,
            details={"request_id": row.request_id, "downloads": row.downloads, "reason": "expired"},
        )
    return len(expired)


def _json_document(document: dict) -> bytes:
    """data.json, indented for people; orjson because the standard encoder's indent mode is pure Python (slow)."""
    return orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
