"""Records of processing activities (GDPR Art 30; PIPL Art 54-56 record keeping) from the applied data map and
the registers: one entry per activity, as server-rendered HTML (templates/ropa.html) and CSV."""

from __future__ import annotations

import csv
import io
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.csvsafe import safe_text
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput

CSV_COLUMNS = ("activity", "name", "description", "purpose", "purpose_name", "legal_basis", "legal_basis_name",
               "categories", "sensitive_categories", "subject_types", "recipients", "recipient_details", "processors",
               "processor_details", "datasets", "datastores", "storage_locations", "transfers", "retention",
               "table_retention", "registered_transfers", "impact_assessment")


def _retention(r) -> str:  # noqa: ANN001
    if r is None:
        return ""
    text = f"{r.duration} after {r.trigger}" if r.duration else f"until {r.trigger}"
    return f"{text} ({r.description})" if r.description else text


def _registered(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """One line per registered processor and recipient (name, regions, agreement), keyed like the data map."""
    from privet.registers.models import Processor, Recipient

    processors = {}
    for p in session.execute(select(Processor)).scalars():
        agreement = f"agreement {p.agreement_ref}" if p.agreement_ref else "NO AGREEMENT"
        if p.agreement_ref and p.expires_on:
            agreement += f" until {p.expires_on.isoformat()}"
        processors[p.key] = f"{p.name} ({', '.join(p.regions or []) or 'region not stated'}; {agreement})"
    recipients = {r.key: f"{r.name} ({r.kind}{', ' + r.region if r.region else ''})"
                  for r in session.execute(select(Recipient)).scalars()}
    return processors, recipients


def build(session: Session) -> dict:
    """The records as plain data: organisation, data map version, generation time and one entry per activity."""
    from privet.datamap.service import current, latest_version
    from privet.registers.crossborder_models import CrossBorderTransfer as T
    from privet.reports.models import ImpactAssessment as A
    from privet.taxonomy.service import effective

    manifest = current(session)
    if manifest is None:
        raise InvalidInput("No data map is applied, so there is nothing to record",
                           "apply the company's data map first: privet datamap apply PATH")
    taxonomy = effective(session)
    version = latest_version(session)
    stores = {d.key: d for d in manifest.datastores}
    dataset_store = {d.key: d.datastore for d in manifest.datasets}
    table_rules = {d.key: [f"{d.key}.{t.name}: {t.retention.duration} after {t.retention.trigger}, "
                           f"{t.retention.action.value}" + (f" (kept {t.retention.legal_minimum} by law)"
                                                            if t.retention.legal_minimum else "")
                           for t in d.tables if t.retention] for d in manifest.datasets}
    registered = {k: (n, p) for k, n, p in session.execute(
        select(T.activity_key, func.count(), func.coalesce(func.sum(T.subject_count), 0))
        .where(T.activity_key.is_not(None)).group_by(T.activity_key))}
    assessments: dict[str, str] = {}
    for key, ref, status in session.execute(select(A.activity_key, A.reference, A.status)
                                            .where(A.status != "superseded").order_by(A.created_at)):
        assessments[key] = f"{ref} ({status})"
    processors, recipients = _registered(session)
    entries = []
    for a in manifest.processing_activities:
        cats = list(dict.fromkeys([*a.required_categories, *a.optional_categories]))
        store_keys = list(dict.fromkeys(dataset_store[d] for d in a.datasets if d in dataset_store))
        datastores = [{"key": k, "region": stores[k].region} for k in store_keys if k in stores]
        locations = a.storage_locations or list(dict.fromkeys(d["region"] for d in datastores))
        count, people = registered.get(a.key, (0, 0))
        entries.append({
            "activity": a.key, "name": a.name, "description": a.description or "",
            "purpose": a.purpose, "purpose_name": taxonomy.label("purposes", a.purpose),
            "legal_basis": a.legal_basis, "legal_basis_name": taxonomy.label("legal_bases", a.legal_basis),
            "categories": [{"key": c, "name": taxonomy.label("categories", c), "required": c in a.required_categories,
                            "sensitive": taxonomy.sensitive_kind(c)} for c in cats],
            "subject_types": [{"key": s, "name": taxonomy.label("subject_types", s)} for s in a.subject_types],
            "recipients": list(a.recipients), "processors": list(a.processors), "datasets": list(a.datasets),
            "recipient_details": [f"{k}: {recipients.get(k, 'not in the recipient register')}" for k in a.recipients],
            "processor_details": [f"{k}: {processors.get(k, 'not in the processor register')}" for k in a.processors],
            "datastores": datastores, "storage_locations": locations,
            "transfers": [t.model_dump(mode="json") for t in a.transfers],
            "retention": _retention(a.retention),
            "table_retention": [r for d in a.datasets for r in table_rules.get(d, [])],
            "registered_transfers": {"count": count, "people": int(people)},
            "impact_assessment": assessments.get(a.key, ""),
        })
    org = manifest.organisation
    return {"organisation": org.model_dump(mode="json") if org else None,
            "datamap_version": version.number if version else None,
            "generated_at": utcnow().strftime("%Y-%m-%d %H:%M UTC"), "activities": entries}


def _cell(entry: dict, column: str) -> str:
    value = entry.get(column)
    if column == "categories":
        return "; ".join(c["key"] for c in value)
    if column == "sensitive_categories":
        return "; ".join(c["key"] for c in entry["categories"] if c["sensitive"])
    if column == "subject_types":
        return "; ".join(s["key"] for s in value)
    if column == "datastores":
        return "; ".join(f"{d['key']} ({d['region']})" for d in value)
    if column == "transfers":
        return "; ".join(f"{t['destination']} via {t.get('mechanism') or 'NO MECHANISM'}"
                         + (f" to {t['recipient']}" if t.get("recipient") else "") for t in value)
    if column == "registered_transfers":
        return f"{value['count']} transfers, {value['people']} people" if value["count"] else ""
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


def to_csv(records: dict) -> str:
    """One row per activity; list cells joined with `; `."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in records["activities"]:
        writer.writerow([safe_text(_cell(entry, c)) for c in CSV_COLUMNS])
    return out.getvalue()


@cache
def _environment():  # noqa: ANN202 - jinja2 is imported lazily
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("privet.reports", "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def to_html(records: dict) -> str:
    """The records as one self-contained HTML page (English)."""
    return _environment().get_template("ropa.html").render(r=records)


def render(session: Session, fmt: str) -> str:
    """The records in `html` or `csv`."""
    if fmt not in ("html", "csv"):
        raise InvalidInput(f"Unknown format {fmt!r}", "use html or csv")
    records = build(session)
    return to_html(records) if fmt == "html" else to_csv(records)
