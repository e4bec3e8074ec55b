"""The data map browser: search systems, datastores, datasets, fields, categories and processing activities,
with the `evaluate` rule findings for the applied map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.datamap import browse, service
from privet.datamap.evaluate import evaluate
from privet.kit.web import DB
from privet.web.admin.common import guard, page
from privet.web.render import language

router = APIRouter(prefix="/datamap")
KINDS = ("systems", "datastores", "datasets", "fields", "categories", "activities")


def _categories(db: DB, q: str, lang: str) -> list[dict]:
    from privet.taxonomy.service import effective

    needle = q.lower()
    out = []
    for key, entry in sorted(effective(db).categories.items()):
        label = entry.label(lang)
        if not needle or needle in key.lower() or needle in label.lower():
            out.append({"key": key, "label": label, "sensitive": entry.sensitive})
    return out[:browse.LIMIT]


@router.get("", dependencies=guard("datamap:read"), response_class=HTMLResponse)
def datamap(request: Request, db: DB) -> HTMLResponse:
    """Search results by kind (everything when no text is given) and the rule findings."""
    q = (request.query_params.get("q") or "").strip()[:200]
    kind = request.query_params.get("kind") or ""
    kind = kind if kind in KINDS else ""
    wanted = [kind] if kind else list(KINDS)
    finders = {"systems": browse.systems, "datastores": browse.datastores, "datasets": browse.datasets,
               "fields": browse.fields, "activities": browse.activities}
    lang = language(request)
    results = {name: (_categories(db, q, lang) if name == "categories" else finders[name](db, q or None))
               for name in wanted}
    manifest = service.current(db)
    findings = None
    if manifest is not None:
        from privet.taxonomy.service import effective

        findings = evaluate(manifest, effective(db))
    return page(request, "admin/datamap.html", {"q": q, "kind": kind, "kinds": KINDS, "results": results,
                                                "findings": findings, "applied": manifest is not None,
                                                "activity_names": {
                                                    a.key: a.label(lang)
                                                    for a in (manifest.processing_activities if manifest else [])}},
                section="datamap")
