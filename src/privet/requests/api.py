"""Data-subject requests: staff routes (list, show, file for someone, approve, refuse, extend, run, legal holds).

Reading needs `requests:read`; every change needs `requests:write` and is audited under the caller's name.
Identities travel in POST bodies only and come back masked. `{reference}` takes a reference (R-7K3M9Q2P) or an id.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request, status

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.kit.crypto import Keyring
from privet.requests import queries, service
from privet.requests.execution import packaging
from privet.requests.holds import service as holds
from privet.requests.intake import service as intake
from privet.requests.intake import verify
from privet.requests.models import DsrRequest
from privet.requests.schemas import (
    AssignIn,
    BackupOut,
    DueOut,
    EventOut,
    FeeIn,
    FiledOut,
    HoldIn,
    HoldOut,
    IdentityCheckIn,
    NoteIn,
    ReasonIn,
    RefusalCodeOut,
    RefuseIn,
    RequestDetailOut,
    RequestOut,
    RequestPage,
    RunOut,
    StaffRequestIn,
    backup_out,
    filed_out,
    hold_out,
    package_out,
    request_out,
    step_out,
    task_out,
)
from privet.requests.workflow import service as workflow
from privet.settings import Settings

router = APIRouter(prefix="/requests", tags=["requests"])
Reader = [Depends(require("requests:read"))]
Writer = [Depends(require("requests:write"))]


def _keyring(request: Request) -> Keyring:
    return request.app.state.keyring


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", dependencies=Reader, response_model=RequestPage)
def list_requests(
    db: DB,
    request: Request,
    status_: str | None = Query(None, alias="status"),
    type_: str | None = Query(None, alias="type"),
    due_before: date | None = None,
    subject_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10**9),
    profile: str | None = Query(None, description="Only requests handled under this law: pipl, gdpr or ccpa (P41)."),
    organisation: str | None = Query(
        None, max_length=120, description="Only requests of people acting for this organisation (P6)."
    ),
) -> RequestPage:
    """Requests newest first; filter by status, type, deadline (active ones due by `due_before`), subject, law
    or the organisation the requester acts for."""
    rows, total = queries.list_requests(
        db,
        status=status_,
        request_type=type_,
        due_before=due_before,
        subject_id=subject_id,
        limit=limit,
        offset=offset,
        profile=profile,
        organisation=organisation,
    )
    keyring = _keyring(request)
    return RequestPage(items=[request_out(keyring, r) for r in rows], total=total)


@router.post("", dependencies=Writer, response_model=FiledOut, status_code=status.HTTP_201_CREATED)
def file_for_someone(body: StaffRequestIn, db: DB, request: Request, caller: Caller) -> FiledOut:
    """File a request on someone's behalf (phone, e-mail, letter, an authorised agent). With `identity_check`
    the identity counts as verified now; without it a code is sent to the identity for the person to confirm."""
    keyring, settings = _keyring(request), _settings(request)
    filed = intake.file_request(
        db,
        keyring,
        settings,
        request_type=body.type,
        identity_type=body.identity_type,
        identity=body.identity,
        filed_by=caller.actor,
        channel=body.channel,
        language=body.language,
        details=body.details,
        agent=body.agent.model_dump() if body.agent else None,
        region=body.region,
        organisation=body.organisation,
    )
    if body.identity_check is not None:
        verify.record_identity_check(
            db,
            keyring,
            settings,
            filed,
            method=body.identity_check.method,
            note=body.identity_check.note,
            actor=caller.actor,
        )
        return filed_out(filed, verified=True)
    if filed.identity_type not in ("email", "phone"):
        return filed_out(filed)  # a staff identity check will verify it: POST .../identity-check
    return filed_out(filed, verify.offer_code(db, keyring, settings, filed, client_ip=_client(request)))


@router.get("/due", dependencies=Reader, response_model=DueOut)
def due(db: DB, request: Request, days: int = Query(3, ge=0, le=90)) -> DueOut:
    """Active requests due within `days` days, and those overdue."""
    soon, late = workflow.deadline_lists(db, days=days)
    keyring = _keyring(request)
    return DueOut(due_soon=[request_out(keyring, r) for r in soon], overdue=[request_out(keyring, r) for r in late])


@router.get("/backups", dependencies=Reader, response_model=list[BackupOut])
def backups(
    db: DB,
    told: bool = Query(False, description="Also erasures whose reminder was sent."),
    limit: int = Query(200, ge=1, le=1000),
) -> list[BackupOut]:
    """Completed erasures with the day their erased data must be gone from backups, soonest first (P22)."""
    from privet.requests.workflow.backups import erasures, today

    on = today(db)
    return [backup_out(item, on) for item in erasures(db, limit=limit, include_told=told)]


@router.get("/refusal-codes", dependencies=Reader, response_model=list[RefusalCodeOut])
def refusal_codes() -> list[RefusalCodeOut]:
    """The reason codes a refusal can give, with the law each rests on, the text and where they apply."""
    from privet.requests.law.triage import REFUSAL_CODES

    return [
        RefusalCodeOut(
            code=r.code, law=r.law, en=r.en, zh_CN=r.zh_CN, applies_to=list(r.applies_to), profiles=list(r.profiles)
        )
        for r in REFUSAL_CODES.values()
    ]


@router.get("/holds", dependencies=Reader, response_model=list[HoldOut])
def list_holds(db: DB, all_: bool = Query(False, alias="all"), subject_id: str | None = None) -> list[HoldOut]:
    """Legal holds, newest first (active ones unless `all=true`)."""
    return [hold_out(h) for h in holds.list_holds(db, active_only=not all_, subject_id=subject_id)]


@router.post("/holds", dependencies=Writer, response_model=HoldOut, status_code=status.HTTP_201_CREATED)
def place_hold(body: HoldIn, db: DB, caller: Caller) -> HoldOut:
    """Place a legal hold on a subject: erasure of their data is blocked, with this reason, until released."""
    return hold_out(
        holds.place(db, subject_id=body.subject_id, reason=body.reason, reference=body.reference, actor=caller.actor)
    )


@router.delete("/holds/{hold_id}", dependencies=Writer, response_model=HoldOut)
def release_hold(hold_id: str, db: DB, caller: Caller) -> HoldOut:
    """Release a hold; erasures it blocked run once no other hold remains."""
    return hold_out(holds.release(db, hold_id, actor=caller.actor))


@router.get("/{reference}", dependencies=Reader, response_model=RequestDetailOut)
def show(reference: str, db: DB, request: Request) -> RequestDetailOut:
    """One request with its steps, manual tasks, package (metadata only) and audit trail."""
    found = service.by_reference(db, reference)
    base = request_out(_keyring(request), found).model_dump()
    return RequestDetailOut(
        **base,
        steps=[step_out(s) for s in queries.steps_of(db, found)],
        tasks=[task_out(t) for t in queries.tasks_of(db, found)],
        package=package_out(queries.package_of(db, found)),
        trail=[
            EventOut(seq=e.seq, at=e.at, actor=e.actor, action=e.action, details=e.details)
            for e in queries.trail(db, found)
        ],
    )


def _changed(db: DB, request: Request, found: DsrRequest) -> RequestOut:
    db.flush()
    return request_out(_keyring(request), found)


@router.post("/{reference}/identity-check", dependencies=Writer, response_model=RequestOut)
def identity_check(reference: str, body: IdentityCheckIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Record that staff checked the requester's identity (method and note); the request then proceeds."""
    found = service.by_reference(db, reference, lock=True)
    verify.record_identity_check(
        db, _keyring(request), _settings(request), found, method=body.method, note=body.note, actor=caller.actor
    )
    return _changed(db, request, found)


@router.post("/{reference}/code", dependencies=Writer, response_model=FiledOut)
def send_code(reference: str, db: DB, request: Request) -> FiledOut:
    """Send (again) a one-time code to the identity the unverified request names."""
    found = service.by_reference(db, reference)
    return filed_out(
        found, verify.send_code(db, _keyring(request), _settings(request), found, client_ip=_client(request))
    )


@router.post("/{reference}/approve", dependencies=Writer, response_model=RequestOut)
def approve(reference: str, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Approve a request waiting for an officer (manual approval types, repeats past the free number)."""
    found = service.by_reference(db, reference)
    workflow.approve(db, _keyring(request), _settings(request), found, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/refuse", dependencies=Writer, response_model=RequestOut)
def refuse(reference: str, body: RefuseIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Refuse with a reason code; the person is told the reason, the law and where to complain."""
    found = service.by_reference(db, reference)
    workflow.refuse(db, found, code=body.code, note=body.note, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/extend", dependencies=Writer, response_model=RequestOut)
def extend(reference: str, body: ReasonIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Extend the deadline once where the profile allows it; the person is told why and the new date."""
    found = service.by_reference(db, reference)
    workflow.extend(db, found, reason=body.reason, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/fee", dependencies=Writer, response_model=RequestOut)
def fee(reference: str, body: FeeIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Record the fee of a request waiting for it as paid, or waive it (with a reason); the request then goes ahead
    and the person is told (P18)."""
    from privet.requests.workflow.fees import settle

    found = service.by_reference(db, reference)
    settle(db, _keyring(request), _settings(request), found, outcome=body.outcome, note=body.reason, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/assign", dependencies=Writer, response_model=RequestOut)
def assign(reference: str, body: AssignIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Assign the request to an officer (or unassign with null)."""
    found = service.by_reference(db, reference)
    workflow.assign(db, found, assignee=body.assignee, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/run", dependencies=Writer, response_model=RunOut)
def run(reference: str, db: DB, request: Request, caller: Caller) -> RunOut:
    """Run again the steps that failed (or were left without a job)."""
    found = service.by_reference(db, reference)
    queued = workflow.run(db, _keyring(request), _settings(request), found, actor=caller.actor)
    return RunOut(reference=found.reference, status=found.status, queued=queued)


@router.post("/{reference}/complete", dependencies=Writer, response_model=RequestOut)
def complete(reference: str, body: NoteIn, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Complete a complaint with the outcome; the person is told."""
    found = service.by_reference(db, reference)
    workflow.complete(db, _keyring(request), _settings(request), found, note=body.note, actor=caller.actor)
    return _changed(db, request, found)


@router.post("/{reference}/package", dependencies=Writer, response_model=RequestOut)
def package(reference: str, db: DB, request: Request, caller: Caller) -> RequestOut:
    """Build the package again with a fresh link and send it to the person (re-fetching when its rows are gone)."""
    found = service.by_reference(db, reference, lock=True)
    keyring = _keyring(request)
    built = packaging.rebuild(db, keyring, _settings(request), found, actor=caller.actor)
    if built is not None:
        packaging.send_link(db, keyring, found, *built)
    return _changed(db, request, found)
