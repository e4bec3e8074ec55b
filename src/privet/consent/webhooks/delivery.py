"""Delivering queued webhooks: claim, POST signed, record the outcome, back off, give up visibly."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from privet.audit.service import record as audit
from privet.consent.models import WebhookDelivery, WebhookEndpoint
from privet.consent.webhooks.service import SECRET_CONTEXT
from privet.consent.webhooks.signing import sign
from privet.db.engine import session_scope
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.outage import Backoff, once_more_on_drop
from privet.settings import Settings

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

SYSTEM_ACTOR = "system:webhooks"
BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS = 10, 3600
STORE_BACKOFF_CAP_SECONDS = 10.0  # longest pause between rounds while the store is away
LEASE_MARGIN_SECONDS = 60  # a claimed delivery whose worker died becomes due again after timeout + this
log = logging.getLogger("privet.webhooks")


@dataclass
class DeliveryReport:
    """What one `deliver_due` round did."""

    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    store_error: bool = False  # the round ended early because the store was away or busy


@dataclass(frozen=True)
class _Claim:
    id: str
    attempts: int
    url: str
    secret: str
    event: str
    body: bytes


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 10 s · 2^(n-1), capped at 1 h, minus up to 20 %."""
    seconds = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))  # jitter: spread retries after an outage


def _give_up(session: Session, delivery: WebhookDelivery) -> None:
    delivery.status = "failed"
    audit(
        session,
        actor=SYSTEM_ACTOR,
        action="webhook.failed",
        object_type="webhook_delivery",
        object_id=delivery.id,
        details={
            "endpoint_id": delivery.endpoint_id,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
        },
    )


def _claim(
    factory: sessionmaker[Session], keyring: Keyring, settings: Settings, now: datetime
) -> _Claim | Literal["taken", "failed"] | None:
    """Take the most overdue delivery: count the attempt and lease it, in its own committed transaction."""
    with session_scope(factory) as session:
        row = session.execute(
            select(WebhookDelivery, WebhookEndpoint)
            .join(WebhookEndpoint)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.active.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
            # PostgreSQL: several workers each take different rows; SQLite ignores it (one writer at a time)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        ).first()
        if row is None:
            return None
        delivery, endpoint = row
        if delivery.attempts >= settings.webhook_max_attempts:  # its worker died during the last attempt
            _give_up(session, delivery)
            return "failed"
        lease = now + timedelta(seconds=settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
        taken = cast(  # optimistic: another worker may have claimed it since we read it (an UPDATE: a CursorResult)
            CursorResult[Any],
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery.id,
                    WebhookDelivery.attempts == delivery.attempts,
                    WebhookDelivery.status == "pending",
                )
                .values(attempts=delivery.attempts + 1, next_attempt_at=lease)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        if not taken:
            return "taken"
        body = json.dumps(
            {
                "id": delivery.id,
                "type": delivery.event,
                "created_at": delivery.created_at.isoformat(),
                "data": delivery.payload,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        return _Claim(
            delivery.id,
            delivery.attempts + 1,
            endpoint.url,
            keyring.decrypt_text(endpoint.secret_enc, context=SECRET_CONTEXT),
            delivery.event,
            body,
        )


def _post(client: httpx.Client, claim: _Claim, timeout: float) -> tuple[int | None, str | None]:
    """POST one delivery; (status code, short error) where the error never quotes the receiver's answer."""
    import httpx

    from privet import __version__

    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Privet-Webhooks/{__version__}",
        "Privet-Signature": sign(claim.secret, claim.body, int(utcnow().timestamp())),
        "Privet-Event": claim.event,
        "Privet-Delivery": claim.id,
    }
    try:
        response = client.post(claim.url, content=claim.body, headers=headers)
    except httpx.TimeoutException:
        return None, f"timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        return None, f"request failed ({type(exc).__name__})"
    code = response.status_code
    return code, None if 200 <= code < 300 else f"answered HTTP {code}"


def _finish(
    factory: sessionmaker[Session],
    settings: Settings,
    claim: _Claim,
    code: int | None,
    error: str | None,
    now: datetime,
) -> str:
    """Record the attempt's outcome in its own transaction; returns delivered | retried | failed | lost."""
    with session_scope(factory) as session:
        delivery = session.get(WebhookDelivery, claim.id, with_for_update=True)
        if delivery is None or delivery.status != "pending" or delivery.attempts != claim.attempts:
            return "lost"  # cancelled meanwhile, or the lease ran out and another worker owns it now
        delivery.last_status_code = code
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
            return "delivered"
        delivery.last_error = error[:200]
        if delivery.attempts >= settings.webhook_max_attempts:
            _give_up(session, delivery)
            return "failed"
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        return "retried"


def deliver_due(
    session_factory: sessionmaker[Session],
    keyring: Keyring,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = 100,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """POST up to `limit` due deliveries, one at a time, each claim and outcome committed on its own."""
    import httpx  # here, not at import: the app starts the loop at boot and should not pay for httpx then

    report, rounds = DeliveryReport(), 0
    timeout = settings.webhook_timeout_seconds
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:  # a redirect is a failure, not a hop
        while report.attempted < limit and rounds < 2 * limit and not (stop and stop.is_set()):
            rounds += 1
            try:
                claim = _claim(session_factory, keyring, settings, now or utcnow())
                if claim is None:
                    break
                if claim == "taken":
                    continue
                report.attempted += 1
                if claim == "failed":
                    report.failed += 1
                    continue
                code, error = _post(client, claim, timeout)
                # the outcome is kept only for the attempt it belongs to: a second try after a dropped
                # connection cannot record it twice, and saves sending the delivery again after its lease
                outcome = once_more_on_drop(
                    lambda c=claim, k=code, e=error: _finish(  # type: ignore[misc]  # mypy cannot type a lambda with defaults
                        session_factory, settings, c, k, e, now or utcnow()
                    )
                )
            except OperationalError as exc:
                # SQLite lets one writer in at a time (another worker won) or the store is away: end this
                # round; a lost outcome only means its lease runs out and the delivery is sent again
                log.warning("webhook delivery round ended early: %s", type(exc.orig).__name__)
                report.store_error = True
                break
            if outcome != "lost":
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def delivery_loop(app: FastAPI, interval: float = 1.0) -> None:
    """Deliver due webhooks from the app's store until cancelled (started in the app lifespan). While the store
    is away, rounds are spaced out (back-off up to STORE_BACKOFF_CAP_SECONDS) and resume by themselves."""
    stop, limit, pause = threading.Event(), 100, Backoff(interval, STORE_BACKOFF_CAP_SECONDS)
    while True:
        state = app.state
        job = asyncio.ensure_future(
            asyncio.to_thread(deliver_due, state.sessionmaker, state.keyring, state.settings, limit=limit, stop=stop)
        )
        try:
            report = await asyncio.shield(job)
        except asyncio.CancelledError:
            stop.set()  # finish the delivery in flight (at most one timeout) so no transaction is left open
            await asyncio.gather(job, return_exceptions=True)
            raise
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop deliveries for good
            log.warning("webhook delivery round failed: %s", type(exc).__name__)
            report = None
        if report is None or report.store_error:
            await asyncio.sleep(max(interval, pause.failed()))
            continue
        pause.succeeded()
        await asyncio.sleep(0 if report.attempted >= limit else interval)
