"""Data map routes: read, export, validate, apply, versions, evaluation and browsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from privet.auth.deps import Principal, require
from privet.datamap import browse, service
from privet.datamap.evaluate import evaluate as run_rules
from privet.datamap.loaded import LoadedManifest
from privet.datamap.manifest import load_document, load_yaml_text
from privet.datamap.schemas import Dataset, Datastore, Manifest, ProcessingActivity, System
from privet.datamap.validate import ensure_valid
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound
from privet.kit.yamlio import dump

router = APIRouter(prefix="/datamap", tags=["datamap"])
Reader = Depends(require("datamap:read"))
Writer = require("datamap:write")
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Manifest"}},
        },
    }
}


async def manifest_body(request: Request) -> LoadedManifest:
    """The request body as a validated manifest: YAML (application/yaml, text/plain) or JSON."""
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise InvalidInput(
                "The body is not valid JSON", "send a JSON manifest or YAML with Content-Type: application/yaml"
            ) from None
        return load_document(data, "body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The body is not UTF-8 text", "send the manifest YAML encoded as UTF-8") from None
    return load_yaml_text(text, "body")


Body = Annotated[LoadedManifest, Depends(manifest_body)]


class ValidationOut(BaseModel):
    ok: bool
    counts: dict[str, int]


class ApplyOut(BaseModel):
    changed: bool
    dry_run: bool
    version: int | None
    counts: dict[str, int]
    changes: dict[str, Any]


class VersionOut(BaseModel):
    number: int
    applied_at: datetime
    actor: str
    sha256: str
    summary: dict[str, Any]


class VersionDetailOut(VersionOut):
    document: dict[str, Any]


class FindingOut(BaseModel):
    rule: str
    severity: str
    object: str
    message: str
    hint: str


class EvaluationOut(BaseModel):
    errors: int
    warnings: int
    findings: list[FindingOut]


def _current(db: DB) -> Manifest:
    manifest = service.current(db)
    if manifest is None:
        raise NotFound("No data map has been applied", "POST a manifest to /api/v1/datamap/apply")
    return manifest


@router.get("", dependencies=[Reader], response_model_exclude_none=True, summary="The applied data map.")
def get_current(db: DB) -> Manifest:
    return _current(db)


@router.get(
    "/export",
    dependencies=[Reader],
    response_class=PlainTextResponse,
    summary="The applied data map as YAML.",
    responses={200: {"content": {"application/yaml": {}}}},
)
def export(db: DB) -> PlainTextResponse:
    return PlainTextResponse(dump(service.canonical(_current(db))), media_type="application/yaml")


@router.post(
    "/validate",
    dependencies=[Reader],
    openapi_extra=_BODY,
    summary="Validate a manifest (YAML or JSON body) without applying it.",
)
def validate(loaded: Body) -> ValidationOut:
    ensure_valid(loaded)
    m = loaded.manifest
    return ValidationOut(
        ok=True,
        counts={
            "systems": len(m.systems),
            "datastores": len(m.datastores),
            "datasets": len(m.datasets),
            "processing_activities": len(m.processing_activities),
        },
    )


@router.post("/apply", openapi_extra=_BODY, summary="Apply a manifest: the store then holds exactly it.")
def apply(
    principal: Annotated[Principal, Depends(Writer)],
    loaded: Body,
    db: DB,
    dry_run: bool = Query(False, description="Report the changes without writing them."),
) -> ApplyOut:
    result = service.apply(db, loaded.manifest, actor=principal.actor, dry_run=dry_run, loaded=loaded)
    return ApplyOut(
        changed=result.changed,
        dry_run=result.dry_run,
        version=result.version,
        counts=result.diff.counts(),
        changes=result.diff.as_dict(),
    )


def _version_data(v: Any) -> dict[str, Any]:
    return {"number": v.number, "applied_at": v.applied_at, "actor": v.actor, "sha256": v.sha256, "summary": v.summary}


def _version_out(v: Any) -> VersionOut:
    return VersionOut(**_version_data(v))


def _version_detail_out(v: Any) -> VersionDetailOut:
    return VersionDetailOut(**_version_data(v), document=v.document)


@router.get("/versions", dependencies=[Reader], summary="Applied versions, oldest first.")
def list_versions(db: DB) -> list[VersionOut]:
    return [_version_out(v) for v in service.versions(db)]


@router.get("/versions/{number}", dependencies=[Reader], summary="One version with its full document.")
def get_version(number: Annotated[int, PathParam(ge=1, le=2**31)], db: DB) -> VersionDetailOut:
    return _version_detail_out(service.version(db, number))


@router.get("/evaluate", dependencies=[Reader], summary="Rule findings for the applied data map.")
def evaluate(db: DB) -> EvaluationOut:
    from privet.taxonomy.service import effective

    findings = run_rules(_current(db), effective(db))
    errors = sum(f.severity == "error" for f in findings)
    return EvaluationOut(
        errors=errors, warnings=len(findings) - errors, findings=[FindingOut(**f.as_dict()) for f in findings]
    )


def _browse(name: str, finder: Callable, model: Any) -> None:
    def endpoint(
        db: DB, q: Annotated[str | None, Query(max_length=200, description="Text to search for.")] = None
    ) -> Any:
        return finder(db, q)

    router.add_api_route(
        f"/{name}",
        endpoint,
        methods=["GET"],
        dependencies=[Reader],
        name=f"browse_{name}",
        response_model=list[model],
        response_model_exclude_none=True,
        summary=f"Search {name} by key, name or category.",
    )


for _name, _finder, _model in (
    ("systems", browse.systems, System),
    ("datastores", browse.datastores, Datastore),
    ("datasets", browse.datasets, Dataset),
    ("fields", browse.fields, browse.FieldOut),
    ("activities", browse.activities, ProcessingActivity),
):
    _browse(_name, _finder, _model)
