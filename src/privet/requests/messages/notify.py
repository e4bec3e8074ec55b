"""Messages to the requester (received, refused, extended, completed), sent by a job after the change commits.

Going through the job interface means a mail server that is down delays a message (it is retried with back-off)
but never loses or blocks the request. Job payloads carry the request id, the message kind and non-personal
values (reference, dates, reason codes); the address is decrypted only when the message is sent.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.jobs.context import JobContext
from privet.kit.crypto import Keyring
from privet.requests import service
from privet.requests.models import DsrRequest
from privet.settings import Settings

log = logging.getLogger("privet.requests")
MESSAGE_JOB = "requests.message"
CONTACT_TYPES = ("email", "phone")


def _link_context(request_id: str) -> str:
    return f"dsr:link:{request_id}"


def queue(
    session: Session,
    request: DsrRequest,
    kind: str,
    *,
    link_token: str | None = None,
    keyring: Keyring | None = None,
    **values: object,
) -> None:
    """Queue one message of `kind` to the requester (once per request and kind). A download token travels in the
    job payload encrypted (`link_token`, needs the keyring); the link is made when the message is sent."""
    from privet.jobs.service import enqueue

    plain = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    payload = {"request_id": request.id, "kind": kind, "values": plain}
    if link_token is not None:
        assert keyring is not None, "a download token travels encrypted: pass the keyring"
        sealed = keyring.encrypt(link_token, context=_link_context(request.id))
        payload["link_enc"] = base64.b64encode(sealed).decode()
    enqueue(session, MESSAGE_JOB, payload, dedupe_key=f"msg:{request.id}:{kind}")


def _payload_values(keyring: Keyring, settings: Settings, payload: dict) -> dict:
    values = dict(payload.get("values") or {})
    if payload.get("link_enc"):
        from privet.requests.packages.service import download_url

        token = keyring.decrypt_text(
            base64.b64decode(payload["link_enc"]), context=_link_context(payload["request_id"])
        )
        values["link"] = download_url(settings, token)
    return values


def recipient(session: Session, keyring: Keyring, request: DsrRequest) -> tuple[str, str] | None:
    """(identity type, address) to write to: the identity given if it is an e-mail or phone, else the verified
    subject's e-mail or phone; None when there is no way to reach the person."""
    if request.identity_type in CONTACT_TYPES:
        value = service.identity_value(keyring, request)
        if value:
            return request.identity_type, value
    if request.subject_id:
        from privet.subjects.service import get_subject, identities_of

        views = identities_of(session, keyring, get_subject(session, request.subject_id))
        ranked = sorted(
            (v for v in views if v.type in CONTACT_TYPES),
            key=lambda v: (v.verified_at is None, CONTACT_TYPES.index(v.type)),
        )
        if ranked:
            return ranked[0].type, ranked[0].value
    return None


DATE_VALUES = ("due", "previous", "verify_by", "expires_on", "backups_until", "today", "until")


def base_values(session: Session, request: DsrRequest) -> dict:
    """Values every message may use: the reference, type, profile, deadline, the organisation and its contact for
    the person's region (P41)."""
    from privet.datamap.models import DatamapOrganisation

    organisation = session.execute(select(DatamapOrganisation.name).limit(1)).first()
    values: dict[str, object] = {
        "reference": request.reference,
        "request_type": request.type,
        "profile": request.profile,
        "profile_source": request.profile_source,
        "region": service.region_of(session, request),
        "due": service.effective_due(request),
        "verify_by": request.verify_by.date() if request.status == "unverified" and request.verify_by else None,
    }
    if organisation is not None:
        values["organisation"], values["contact"] = organisation.name, contact_for_request(session, request)
    return values


def contact_for_request(session: Session, request: DsrRequest) -> dict | None:
    """The privacy contact the person is told to write to: the office answering for their region (the data map's
    `organisation.contacts`), else the organisation's responsible contact; None before a data map is applied."""
    from privet.datamap.contacts import FIELDS, contact_for

    found = contact_for(session, service.region_of(session, request))
    return {k: found[k] for k in FIELDS if found.get(k)} or None


def _dates(values: dict) -> dict:
    """Dates travel through job payloads as ISO text; messages format real dates."""
    out = dict(values)
    for key in DATE_VALUES:
        if isinstance(out.get(key), str):
            out[key] = date.fromisoformat(out[key][:10])
    if isinstance(out.get("retained"), list):
        out["retained"] = [_dates(item) if isinstance(item, dict) else item for item in out["retained"]]
    return out


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: where, in which language, with which values (held in memory only)."""

    request_id: str
    kind: str
    identity_type: str
    address: str
    language: str
    values: dict


def prepare(
    session: Session,
    keyring: Keyring,
    request: DsrRequest,
    kind: str,
    values: dict | None = None,
    *,
    actor: str = service.SYSTEM,
) -> Outgoing | None:
    """The message to send, or None (and an audit event) when there is no address to send it to."""
    target = recipient(session, keyring, request)
    if target is None:
        service.audit(session, request, "message_skipped", actor=actor, kind=kind, reason="no e-mail or phone")
        return None
    return Outgoing(
        request.id,
        kind,
        target[0],
        target[1],
        request.language,
        {**base_values(session, request), **_dates(values or {})},
    )


def transmit(settings: Settings, out: Outgoing) -> None:
    """Send it (outside any store transaction: mail servers can be slow); errors propagate so the job retries."""
    from privet.requests.messages.render import send_message

    send_message(settings, out.identity_type, out.address, out.kind, out.language, **out.values)


def sent(session: Session, out: Outgoing, *, actor: str = service.SYSTEM) -> None:
    """Record that the message went out (kind and channel only)."""
    request = session.get(DsrRequest, out.request_id)
    assert request is not None  # the message was prepared from it moments ago
    service.audit(session, request, "message_sent", actor=actor, kind=out.kind, channel=out.identity_type)


def run_message(ctx: JobContext, payload: dict) -> None:
    """The `requests.message` job: read, send, record; nothing is sent for a request purged meanwhile."""
    with ctx.session() as session:
        request = session.get(DsrRequest, payload["request_id"])
        if request is None or request.status == "expired":  # purged: there is no address any more
            return
        out = prepare(
            session, ctx.keyring, request, payload["kind"], _payload_values(ctx.keyring, ctx.settings, payload)
        )
    if out is None:
        return
    transmit(ctx.settings, out)
    with ctx.session(last=True) as session:
        sent(session, out)
