"""My consents: each consent choice the person can make in plain language with its state, give or withdraw it
(separate consent shown apart with what makes it separate; uses needed for the service listed apart, no consent
asked), renew consent a material change asks for again, and channel preferences. A verified guardian does the
same for a linked child (recorded with method `guardian`). Same service calls as `consent/api.py`'s `/me`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from privet.auth.deps import PUBLIC
from privet.consent import channels
from privet.consent.ledger import service as ledger
from privet.consent.ledger.rules import POSITIVE_EVENTS, current_policy
from privet.consent.overview import overview
from privet.http.routes import DB
from privet.kit.errors import PrivetError
from privet.notices.service import material_changes
from privet.web.centre import consent_cards as cards
from privet.web.centre.common import (
    N_,
    Forms,
    Public,
    acting_for,
    children_of,
    client,
    go,
    page,
    page_language,
    sign_in_first,
    signed_in,
)
from privet.web.centre.signin import problem_text
from privet.web.csrf import CheckedForm
from privet.web.render import translate

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from privet.subjects.sessions import SubjectSession
    from privet.web.centre.common import Child

router = APIRouter(include_in_schema=False)
EVENTS = ("given", "withdrawn", "renewed")
STATES = {
    "given": N_("Given"),
    "renewed": N_("Given"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "expired": N_("Expired"),
    None: N_("Not given"),
}
METHODS = {
    "banner": N_("cookie banner"),
    "form": N_("privacy centre"),
    "api": N_("the company's app"),
    "guardian": N_("guardian"),
    "import": N_("imported"),
    "staff": N_("staff"),
    "gpc": N_("browser signal"),
}
CHANNEL_NAMES = {"email": N_("E-mail"), "sms": N_("Text message (SMS)"), "push": N_("App notifications (push)")}


def _material_moment(changes: dict[str, datetime], purpose: str) -> datetime | None:
    moments = [m for p, m in changes.items() if purpose == p or purpose.startswith(p + ".")]
    return max(moments) if moments else None


def consent_view(session: Session, request: Request, subject_id: str, *, for_child: bool = False) -> dict:
    """The consent choices this subject can make (`consent_cards`' rule): plain names, state, what makes a
    separate consent separate, re-consent; and the uses needed for the service, for which no consent is asked."""
    lang = page_language(request)
    policy = current_policy(session)
    view = overview(session, subject_id)
    holder = f"s:{view['subject_id']}"
    states = {s.purpose: s.event for s in view["states"] if s.holder == holder}
    last_at = {r.purpose: r.at for r in view["history"] if r.subject_id is not None}
    changes = material_changes(session)
    viewer = cards.viewer_for(session, policy, view["subject_id"], for_child)
    all_uses = cards.uses(session)
    consent_bases = {k for k, b in policy.taxonomy.legal_bases.items() if b.consent}
    ordinary: list[dict[str, Any]] = []
    separate: list[dict[str, Any]] = []
    for key, rule in sorted(policy.purposes.items()):
        if not rule.consent_bases:
            continue
        event = states.get(key)
        given = event in POSITIVE_EVENTS
        mine = [u for u in all_uses if u.purpose == key and u.legal_basis in consent_bases]
        shown = [u for u in mine if cards.concerns(policy, u, viewer)]
        if not shown and not given:
            continue  # a choice that does not concern this person (a held consent always stays withdrawable)
        entry = policy.taxonomy.purposes.get(key)
        moment = _material_moment(changes, key)
        renew = bool(given and moment and last_at.get(key) and last_at[key] < moment)
        card = cards.describe(policy, key, shown or mine, viewer, lang, lambda text: translate(request, text))
        item = {
            "key": key,
            "name": entry.label(lang) if entry else key,
            "description": translate(request, entry.description) if entry and entry.description else "",
            "state": translate(request, STATES.get(event, STATES[None])),
            "given": given,
            "renew": renew,
            "kind": " · ".join(card.reasons),
            "reasons": card.reasons,
            "for_whom": ", ".join(card.for_whom),
            "anchor": "p-" + key.replace(".", "-"),
        }
        (separate if card.separate else ordinary).append(item)
    needed = cards.needed_for_service(policy, all_uses, viewer, lang)
    names = {k: e.label(lang) for k, e in policy.taxonomy.purposes.items()}
    history = [
        {
            "at": r.at,
            "purpose": names.get(r.purpose, r.purpose),
            "event": translate(request, STATES.get(r.event, STATES[None])) if r.event in STATES else r.event,
            "method": translate(request, METHODS.get(r.method, r.method)),
            "by_guardian": r.guardian_id is not None,
        }
        for r in reversed(view["history"][-20:])
        if r.subject_id is not None
    ]
    messaging = []
    for key, pref in channels.preferences(session, view["subject_id"]).items():
        messaging.append(
            {
                "key": key,
                "name": names.get(key, key),
                "locked": pref["locked"],
                "channels": [
                    {
                        "key": c,
                        "name": translate(request, CHANNEL_NAMES[c]),
                        "on": bool(on),
                        "id": f"ch-{key.replace('.', '-')}-{c}",
                    }
                    for c, on in pref["channels"].items()
                ],
            }
        )
    return {
        "ordinary": ordinary,
        "separate": separate,
        "needed": needed,
        "history": history,
        "messaging": messaging,
        "renew_count": sum(1 for i in ordinary + separate if i["renew"]),
        "type_known": viewer.subject_type is not None,
        "child_age": viewer.child_age,
        "needs_guardian": viewer.needs_guardian,
    }


def _page(
    request: Request, session: Session, child_id: str | None, *, error: str | None = None, status_code: int = 200
) -> Response:
    subject = signed_in(request)
    if subject is None:
        return sign_in_first(request)
    acting_id, child = acting_for(session, request, subject, child_id)
    context = {
        **consent_view(session, request, acting_id, for_child=child is not None),
        "child": child,
        "children": children_of(session, request, subject.subject_id),
        "error": error,
    }
    return page(request, "centre/consents.html", context, nav="consents", status_code=status_code)


@router.get("/consents", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def my_consents(request: Request, session: DB) -> Response:
    return _page(request, session, request.query_params.get("child"))


def _acting(
    session: Session, request: Request, subject: SubjectSession, form: FormData
) -> tuple[str | None, tuple[str, Child | None]]:
    """(the child id the form names, (whom the change is for, the child or None)): a guardian may act for a child."""
    child_id = str(form.get("child") or "") or None
    return child_id, acting_for(session, request, subject, child_id)


@router.post("/consents", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def change_consent(request: Request, form: CheckedForm, session: DB) -> Response:
    subject = signed_in(request)
    if subject is None:
        return sign_in_first(request)
    child_id, (acting_id, child) = _acting(session, request, subject, form)
    event, purpose = str(form.get("event") or ""), str(form.get("purpose") or "")[:160]
    ip, agent = client(request)
    try:
        if event not in EVENTS:
            raise PrivetError(N_("Choose to give or withdraw consent"), None, [], 422, "Invalid input")
        ledger.record(
            session,
            subject_id=acting_id,
            purpose=purpose,
            event=event,
            method="guardian" if child else "form",
            actor=f"subject:{subject.subject_id}",
            guardian_id=subject.subject_id if child else None,
            language=page_language(request),
            client_ip=ip,
            user_agent=agent,
            keyring=request.app.state.keyring,
        )
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return _page(request, session, child_id, error=problem_text(request, exc), status_code=exc.status)
    return go("/consents", "consent_saved", child=child.id if child else None)


@router.post("/consents/channels", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def change_channels(request: Request, form: CheckedForm, session: DB) -> Response:
    subject = signed_in(request)
    if subject is None:
        return sign_in_first(request)
    child_id, (acting_id, child) = _acting(session, request, subject, form)
    chosen = set(form.getlist("on"))
    try:
        for key, pref in channels.preferences(session, acting_id).items():
            if pref["locked"] or pref["type"] is None:
                continue
            for channel in channels.CHANNELS:
                channels.set_preference(
                    session,
                    acting_id,
                    key,
                    channel,
                    f"{key}:{channel}" in chosen,
                    actor=f"subject:{subject.subject_id}",
                )
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return _page(request, session, child_id, error=problem_text(request, exc), status_code=exc.status)
    return go("/consents", "channels_saved", child=child.id if child else None)
