"""Answering access, portability and explanation requests: build the zip from the steps' rows, store it
encrypted, complete the request and send the expiring link.

The fetched rows stay (encrypted) on the steps until the package expires, so an officer can rebuild a package
with a fresh link (`privet requests package REF`); after expiry they are dropped with the package.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from privet.jobs.context import JobContext
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict
from privet.requests import service
from privet.requests.crypto import step_output
from privet.requests.execution.plans import plan_for
from privet.requests.execution.steps import KEEP_ROWS, PACKAGE_JOB, enqueue_step, fresh_steps
from privet.requests.models import AccessPackage, DsrRequest, RequestStep
from privet.settings import Settings
from privet.subjects.models import Subject

log = logging.getLogger("privet.requests")


def found_counts(steps: list[RequestStep]) -> dict[str, dict[str, int]]:
    """{datastore: {table: rows found}} from the steps' counts."""
    return {s.datastore_key: {t: int(c.get("found", 0)) for t, c in (s.counts or {}).items()} for s in steps}


def unsearched(session: Session, settings: Settings, steps: list[RequestStep]) -> list[dict]:
    """Tables of the searched datastores that hold personal data no identity reaches (said in the package)."""
    out = []
    for step in steps:
        if step.connector in ("http", "manual"):
            continue
        try:
            plan = plan_for(session, settings, step.datastore_key)
        except Exception:  # noqa: BLE001 - the datastore left the data map since: nothing to say about it
            continue
        out += [{"datastore": step.datastore_key, "table": t} for t in plan.unreachable]
    return out


def meta_of(session: Session, request: DsrRequest) -> dict:
    """What the package says about the request (no identity values)."""
    from privet.requests.packages.explain import map_view

    organisation = (map_view(session).organisation or {}).get("name")
    meta = {
        "reference": request.reference,
        "type": request.type,
        "received_at": request.received_at,
        "verified_at": request.verified_at,
        "generated_at": utcnow(),
        "identity_type": request.identity_type,
    }
    if organisation:
        meta["organisation"] = organisation
    if request.agent:
        meta["agent"] = request.agent
    meta["profile"] = request.profile  # the law the request was handled under (P41)
    subject = session.get(Subject, request.subject_id) if request.subject_id else None
    if subject is not None and subject.organisation_ref:  # the organisation the person acts for (P6)
        meta["acting_for"] = subject.organisation_ref
    return meta


def build(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    actor: str,
    steps: list[RequestStep] | None = None,
) -> tuple[AccessPackage, str]:
    """Build and store the package (replacing an earlier one), complete the request; returns (package, token).
    `steps`: the request's steps when the caller has just read them under the request's lock."""
    from privet.requests.packages.explain import explain
    from privet.requests.packages.service import build_zip, store_package

    steps = steps if steps is not None else fresh_steps(session, request)
    found = found_counts(steps)
    outputs = (
        {s.datastore_key: step_output(keyring, s) for s in steps if s.output_enc} if request.type in KEEP_ROWS else {}
    )
    rows = {store: out["rows"] for store, out in outputs.items()}
    extras = {
        "reference": {store: out["reference"] for store, out in outputs.items() if out["reference"]},
        "links": [{"datastore": store, **link} for store, out in outputs.items() for link in out["links"]],
        "withheld": [{"datastore": store, **w} for store, out in outputs.items() for w in out["withheld"]],
        "unsearched": unsearched(session, settings, steps),
    }
    explanation = explain(session, found, request.language)
    data = build_zip(meta_of(session, request), rows, explanation, request.language, extras)
    package, token = store_package(session, keyring, settings, request, data, actor=actor)
    first = request.status != "completed"
    request.status, request.completed_at = "completed", request.completed_at or utcnow()
    request.result = {
        **(request.result or {}),
        "tables": found,
        "package": {
            "id": package.id,
            "expires_at": package.expires_at.isoformat(),
            "max_downloads": package.max_downloads,
            "size": package.size,
        },
    }
    session.flush()
    service.audit(
        session,
        request,
        "completed" if first else "package_rebuilt",
        actor=actor,
        tables=sum(len(t) for t in found.values()),
        rows=sum(sum(t.values()) for t in found.values()),
        package_id=package.id,
    )
    return package, token


def link_values(package: AccessPackage) -> dict:
    """The package_ready message's values besides the link (which travels encrypted, see `notify.queue`)."""
    return {"expires_on": package.expires_at.date(), "downloads": package.max_downloads}


def send_link(session: Session, keyring: Keyring, request: DsrRequest, package: AccessPackage, token: str) -> None:
    """Queue the package_ready message with the link to the requester."""
    from privet.requests.messages import notify

    notify.queue(session, request, "package_ready", link_token=token, keyring=keyring, **link_values(package))


def answer(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    actor: str,
    steps: list[RequestStep] | None = None,
) -> None:
    """Every step is done: build the package now (in this transaction) and queue the link. If building fails,
    the `requests.package` job tries again with its own retries."""
    try:
        with session.begin_nested():
            package, token = build(session, keyring, settings, request, actor=actor, steps=steps)
    except Exception as exc:  # noqa: BLE001 - anything: the job retries, and fails the request in the end
        from privet.jobs.service import enqueue

        log.warning("request %s: package build failed (%s); queued as a job", request.reference, type(exc).__name__)
        request.status = "running"
        enqueue(session, PACKAGE_JOB, {"request_id": request.id}, dedupe_key=f"package:{request.id}")
        return
    send_link(session, keyring, request, package, token)


def run_package(ctx: JobContext, request_id: str) -> None:
    """The `requests.package` job (when building inside the last step failed): build, complete, queue the link;
    the last failed attempt fails the request, so it is never left running with nothing to run it."""
    try:
        with ctx.session() as session:
            request = session.get(DsrRequest, request_id)
            if request is None or request.status != "running":
                return
            service.lock(session, request)
            if request.status != "running":
                return
            package, token = build(session, ctx.keyring, ctx.settings, request, actor=service.SYSTEM)
            send_link(session, ctx.keyring, request, package, token)
    except Exception as exc:
        if ctx.final_attempt:
            _fail(ctx, request_id, exc)
        raise


def _fail(ctx: JobContext, request_id: str, exc: BaseException) -> None:
    with ctx.session() as session:
        request = service.lock(session, request_id)
        if request.status != "running":
            return
        request.status = "failed"
        request.result = {**(request.result or {}), "error": "the package could not be built", "failed": ["package"]}
        service.audit(session, request, "package_failed", actor=service.SYSTEM, error=type(exc).__name__)


def rebuild(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str
) -> tuple[AccessPackage, str] | None:
    """A new package with a fresh link from the rows still held; None when they are gone (the fetch steps are
    queued again and the subject gets the new link when they finish)."""
    if request.type not in service.PACKAGE_TYPES:
        raise Conflict(
            f"A {request.type} request has no package", "packages answer access, portability and explanation requests"
        )
    service.require_status(request, ("completed",), "packaged again")
    steps = fresh_steps(session, request)
    needs_rows = request.type in KEEP_ROWS
    if not needs_rows or all(s.output_enc or not any(c.get("found") for c in (s.counts or {}).values()) for s in steps):
        return build(session, keyring, settings, request, actor=actor)
    for step in steps:
        step.status, step.finished_at, step.output_enc = "pending", None, None
    request.status = "running"
    session.flush()
    service.audit(session, request, "refetch", actor=actor, steps=len(steps))
    for step in steps:
        enqueue_step(session, step)
    return None


def drop_expired_rows(session: Session) -> int:
    """Drop fetched rows kept on steps once their request's package was purged; returns how many steps."""
    purged = select(AccessPackage.request_id).where(AccessPackage.purged_at.is_not(None))
    dropped = session.execute(
        update(RequestStep)
        .where(RequestStep.request_id.in_(purged), RequestStep.output_enc.is_not(None))
        .values(output_enc=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], dropped).rowcount or 0  # an UPDATE's result is a CursorResult
