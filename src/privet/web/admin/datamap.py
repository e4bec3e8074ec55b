"""The data map browser: search systems, datastores, datasets, fields, categories and processing activities,
with the `evaluate` rule findings for the applied map.

The page stays short: searching everything shows how many of each kind match and the first few of each, with a
link to all of them; one kind (`kind=`) is shown a page of PAGE_SIZE rows at a time (`page=`). The findings sit
in a collapsed section (open when there are errors)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.datamap import browse, service
from privet.datamap.evaluate import evaluate
from privet.http.routes import DB
from privet.web.admin.common import guard, page
from privet.web.render import language

router = APIRouter(prefix="/datamap")
KINDS = ("systems", "datastores", "datasets", "fields", "categories", "activities")
PREVIEW = 5  # rows of each kind shown when every kind is searched
PAGE_SIZE = 50  # rows of one kind per page


def _categories(db: DB, q: str, lang: str) -> list[dict]:
    from privet.taxonomy.service import effective

    needle = q.lower()
    out = []
    for key, entry in sorted(effective(db).categories.items()):
        label = entry.label(lang)
        if not needle or needle in key.lower() or needle in label.lower():
            out.append({"key": key, "label": label, "sensitive": entry.sensitive})
    return out[: browse.LIMIT]


def _number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 10_000))
    except ValueError:
        return 1


def _found(db: DB, name: str, q: str, lang: str) -> list:
    finders: dict[str, Callable[[DB, str | None], list]] = {
        "systems": browse.systems,
        "datastores": browse.datastores,
        "datasets": browse.datasets,
        "fields": browse.fields,
        "activities": browse.activities,
    }
    return _categories(db, q, lang) if name == "categories" else finders[name](db, q or None)


@router.get("", dependencies=guard("datamap:read"), response_class=HTMLResponse)
def datamap(request: Request, db: DB) -> HTMLResponse:
    """Matches by kind (everything when no text is given): counts and a preview of each kind, or a page of one
    kind; and the rule findings."""
    q = (request.query_params.get("q") or "").strip()[:200]
    kind = request.query_params.get("kind") or ""
    kind = kind if kind in KINDS else ""
    lang = language(request)
    results = {}
    for name in [kind] if kind else KINDS:
        found = _found(db, name, q, lang)
        pages = max(1, -(-len(found) // PAGE_SIZE))
        number = min(_number(request.query_params.get("page")), pages) if kind else 1
        size = PAGE_SIZE if kind else PREVIEW
        results[name] = {
            "rows": found[(number - 1) * size : number * size],
            "total": len(found),
            "page": number,
            "pages": pages if kind else 1,
            "capped": len(found) >= browse.LIMIT,
        }
    manifest = service.current(db)
    findings = None
    if manifest is not None:
        from privet.taxonomy.service import effective

        findings = evaluate(manifest, effective(db))
    names = {a.key: a.label(lang) for a in (manifest.processing_activities if manifest else [])}
    return page(
        request,
        "admin/datamap.html",
        {
            "q": q,
            "kind": kind,
            "kinds": KINDS,
            "results": results,
            "findings": findings,
            "applied": manifest is not None,
            "activity_names": names,
            "preview": PREVIEW,
        },
        section="datamap",
    )
