"""Webhooks for consent changes: endpoints, the delivery queue, HMAC signatures, retries with back-off.

Delivery itself (`deliver_due`, `delivery_loop`) is in `webhooks.delivery`, signatures in `webhooks.signing`.
Receivers check `Privet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the secret
shown once when the endpoint was added (`webhooks.signing.verify_signature` does it), and drop repeats by the
`Privet-Delivery` id: delivery is at least once, so a crash between a POST and its bookkeeping resends it.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.models import ConsentRecord, WebhookDelivery, WebhookEndpoint
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.kit.ids import new_id

CONSENT_CHANGED = "consent.changed"
EVENTS = frozenset({CONSENT_CHANGED})
STATUSES = ("pending", "delivered", "failed", "cancelled")
SECRET_CONTEXT = "webhook"
_CACHE_KEY = "privet.webhooks.subscribed"
_E = WebhookEndpoint.__table__.c
_ACTIVE = select(_E.id, _E.events).where(_E.active.is_(True))  # built once: read once per recording transaction


# --- endpoints ----------------------------------------------------------------------------------------------
def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The URL if Privet may post to it: https, or plain http to a loopback host (development)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise InvalidInput(
            "The webhook URL is not a valid http(s) URL",
            "give a full URL of at most 500 characters, such as https://hooks.example.com/privet",
        )
    if parts.username or parts.password:
        raise InvalidInput(
            "The webhook URL must not carry a user name or password",
            "drop `user:password@`; receivers authenticate deliveries by the Privet-Signature header",
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidInput(
            "The webhook URL must use https",
            "use https://...; plain http is accepted only for loopback hosts (localhost, "
            "127.0.0.1, ::1) during development",
        )
    return url


def add_endpoint(
    session: Session, keyring: Keyring, *, url: str, events: list[str] | None = None, actor: str
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret, which is shown this once and stored encrypted."""
    url = check_url(url)
    events = sorted(set(events or [CONSENT_CHANGED]))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise InvalidInput(f"Unknown webhook event {unknown[0]!r}", f"use one of: {', '.join(sorted(EVENTS))}")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=url,
        secret_enc=keyring.encrypt(secret, context=SECRET_CONTEXT),
        events=events,
        active=True,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    session.info.pop(_CACHE_KEY, None)
    audit(
        session,
        actor=actor,
        action="webhook.endpoint_added",
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        details={"host": urlsplit(url).hostname, "events": events},
    )
    return endpoint, secret


def list_endpoints(session: Session, *, include_inactive: bool = True) -> list[WebhookEndpoint]:
    """Endpoints, oldest first (secrets stay encrypted)."""
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    if not include_inactive:
        stmt = stmt.where(WebhookEndpoint.active.is_(True))
    return list(session.scalars(stmt))


def find_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint by id, or NotFound."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id!r}", "list them with `privet webhooks list`")
    return endpoint


def deactivate_endpoint(session: Session, endpoint_id: str, *, actor: str) -> WebhookEndpoint:
    """Stop sending to an endpoint; its pending deliveries are cancelled (kept, visible). Idempotent."""
    endpoint = find_endpoint(session, endpoint_id)
    if not endpoint.active:
        return endpoint
    endpoint.active = False
    cancelled = cast(  # an UPDATE's result is a CursorResult
        CursorResult[Any],
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.info.pop(_CACHE_KEY, None)
    audit(
        session,
        actor=actor,
        action="webhook.endpoint_deactivated",
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        details={"cancelled_deliveries": cancelled},
    )
    return endpoint


# --- the queue ----------------------------------------------------------------------------------------------
def subscribed(session: Session) -> list[str]:
    """Ids of active endpoints subscribed to consent changes, read once per transaction.

    Cached per transaction rather than per process: an endpoint added by another process (the CLI, another
    worker) must get every change committed after it, and a process-wide cache could not know about it.
    (Recording uses `ledger.stamp`, which keeps them per process behind one cheap check per transaction.)
    """
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is session.get_transaction():
        return cached[1]
    ids = read_subscribed(session)
    session.info[_CACHE_KEY] = (session.get_transaction(), ids)
    return ids


def read_subscribed(session: Session) -> list[str]:
    """`subscribed`, read from the store now."""
    session.flush()  # an endpoint added earlier in this transaction counts
    rows = session.connection().execute(_ACTIVE)
    return [endpoint_id for endpoint_id, events in rows if CONSENT_CHANGED in (events or ())]


_PAYLOAD_FIELDS = ("id", "seq", "subject_id", "visitor_id", "purpose", "event", "at")


def payload_for(record: ConsentRecord | dict) -> dict:
    """What receivers get about a ledger record: ids, purpose, event and time only, never identity values."""
    r = record if isinstance(record, dict) else {k: getattr(record, k) for k in _PAYLOAD_FIELDS}
    holder = {"subject_id": r["subject_id"]} if r["subject_id"] else {"visitor_id": r["visitor_id"]}
    return {
        "record_id": r["id"],
        "seq": r["seq"],
        **holder,
        "purpose": r["purpose"],
        "event": r["event"],
        "at": r["at"].isoformat(),
    }


def enqueue(session: Session, record: ConsentRecord) -> None:
    """Queue one `consent.changed` delivery per subscribed endpoint (call after adding the ledger record)."""
    if record.seq is None:  # seq is the change-feed order receivers rely on; the database assigns it at flush
        session.flush()
    enqueue_rows(session, [{k: getattr(record, k) for k in _PAYLOAD_FIELDS}])


def enqueue_rows(session: Session, rows: list[dict], endpoint_ids: list[str] | None = None) -> None:
    """Queue deliveries for written ledger rows (column dicts with their seq), one Core insert for all;
    `endpoint_ids`: the subscribed endpoints when the caller knows them (see `ledger.stamp`)."""
    endpoint_ids = subscribed(session) if endpoint_ids is None else endpoint_ids
    if not endpoint_ids or not rows:
        return
    now = utcnow()
    session.connection().execute(
        insert(WebhookDelivery.__table__),
        [
            {
                "id": new_id(),
                "endpoint_id": endpoint_id,
                "event": CONSENT_CHANGED,
                "payload": payload_for(row),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for row in rows
            for endpoint_id in endpoint_ids
        ],
    )


def list_deliveries(
    session: Session, *, status: str | None = None, endpoint_id: str | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """Deliveries, newest first, optionally of one status or endpoint."""
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"Unknown delivery status {status!r}", f"use one of: {', '.join(STATUSES)}")
        stmt = stmt.where(WebhookDelivery.status == status)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(session.scalars(stmt.limit(max(1, min(limit, 1000)))))


def redeliver(session: Session, delivery_id: str, *, actor: str) -> WebhookDelivery:
    """Put a failed delivery back in the queue with fresh attempts."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"No webhook delivery {delivery_id!r}", "list them with `privet webhooks deliveries`")
    if delivery.status != "failed":
        raise Conflict(
            f"Delivery {delivery_id} is {delivery.status}, not failed", "only failed deliveries can be redelivered"
        )
    if not find_endpoint(session, delivery.endpoint_id).active:
        raise Conflict("Its endpoint is deactivated", "add the endpoint again; deliveries go to active endpoints")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    audit(
        session,
        actor=actor,
        action="webhook.redelivered",
        object_type="webhook_delivery",
        object_id=delivery.id,
        details={"endpoint_id": delivery.endpoint_id},
    )
    return delivery
