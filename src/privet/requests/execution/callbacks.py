"""Asynchronous answers of HTTP connectors: `POST /api/v1/requests/callbacks/{step_id}`.

An endpoint that answered 202 posts its result here later, with two proofs: `Authorization: Bearer
<callback_token>` (the one-time token Privet sent with that step; only its sha256 is stored) and
`X-Privet-Signature` over the raw body under the datastore's signing key, exactly as Privet signs its own calls.
The body is the answer an immediate 200 would have carried (`{"rows": ...}` or `{"counts": ..., "retained":
...}`). It may arrive before Privet has recorded its own call as waiting; a step already finished (done,
skipped, failed) answers 409. The token works once.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from privet.audit.service import record
from privet.auth.deps import PUBLIC
from privet.connectors.base import ConnectorError
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, PrivetError, Unauthorized
from privet.requests.models import RequestStep
from privet.settings import Settings

router = APIRouter(prefix="/requests/callbacks", tags=["requests"])
MAX_BODY_BYTES = 50 * 1024 * 1024
CALLBACK_RATE_FACTOR = 10
FINISHED_STEPS = ("done", "skipped", "failed")
_HINT = "send `Authorization: Bearer <callback_token>` and `X-Privet-Signature` as Privet's request to you did"


class TooLarge(PrivetError):
    """The callback body is larger than Privet accepts."""

    def __init__(self) -> None:
        super().__init__(
            f"The callback body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
            "split the rows over fewer, smaller answers or contact the privacy office",
            [],
            413,
            "Payload too large",
        )


class callback_rate_limited(rate_limited):  # noqa: N801 - used like a function
    """The public limit × CALLBACK_RATE_FACTOR: one company endpoint answers many steps from one address, and
    every callback must carry a valid token and signature anyway."""

    def __call__(self, request: Request) -> None:
        from privet.http.ratelimit import RateLimited, limiter_for

        limit = request.app.state.settings.public_rate_limit_per_minute * CALLBACK_RATE_FACTOR
        client = request.client.host if request.client else "unknown"
        retry_after = limiter_for(request.app.state, self.bucket).hit(client, limit)
        if retry_after is not None:
            raise RateLimited(retry_after)


class CallbackOut(BaseModel):
    """The step's state after the answer was recorded."""

    step_id: str
    status: str


def _signing_key(session: Session, settings: Settings, datastore_key: str) -> str:
    from privet.connectors.http import parse_secret
    from privet.datamap.models import DatamapDatastore
    from privet.datamap.secrets import resolve_secret

    store = session.scalars(select(DatamapDatastore).where(DatamapDatastore.key == datastore_key)).first()
    if store is None or not store.secret:
        raise Unauthorized("This callback cannot be verified", "the datastore is no longer in the data map")
    try:
        return parse_secret(datastore_key, resolve_secret(settings, store.secret))[1]
    except (ConnectorError, PrivetError) as exc:
        raise Unauthorized("This callback cannot be verified", "the datastore's signing key is not configured") from exc


def receive(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    step_id: str,
    *,
    authorization: str,
    signature: str,
    body: bytes,
) -> RequestStep:
    """Verify an HTTP connector's late answer, record it (`executor.step_finished`) and return the step."""
    from privet.connectors.http import parse_answer
    from privet.consent.webhooks.signing import verify_signature
    from privet.requests.execution.executor import step_finished

    scheme, _, token = (authorization or "").partition(" ")
    step = session.scalars(select(RequestStep).where(RequestStep.id == step_id[:32]).with_for_update()).first()
    given = hashlib.sha256(token.strip().encode()).hexdigest()
    if (
        step is None
        or scheme.lower() != "bearer"
        or not step.callback_token_hash
        or not hmac.compare_digest(given, step.callback_token_hash)
    ):
        raise Unauthorized("This callback is not authorised", _HINT)  # same answer for unknown steps: no oracle
    if not verify_signature(_signing_key(session, settings, step.datastore_key), signature, body):
        raise Unauthorized("The callback's signature does not match its body or is too old", _HINT)
    if step.status in FINISHED_STEPS:  # still running is fine: the answer may overtake Privet's own bookkeeping
        raise Conflict(f"This step is already {step.status}", "there is nothing more to answer for it")
    try:
        result = parse_answer(step.datastore_key, json.loads(body))
    except ValueError:
        raise InvalidInput("The callback body is not JSON", "send the answer as a JSON object") from None
    except ConnectorError as exc:
        raise InvalidInput(str(exc), 'send {"rows": {...}} or {"counts": {...}, "retained": [...]}') from None
    step.callback_token_hash = None  # single use: a replay is refused
    session.flush()  # before step_finished refreshes the step from the store
    record(
        session,
        actor=f"connector:{step.datastore_key}",
        action="request.step_callback",
        object_type="dsr_step",
        object_id=step.id,
        details={
            "request_id": step.request_id,
            "datastore": step.datastore_key,
            "tables": len(result.counts),
            "retained": len(result.retained),
        },
    )
    step_finished(session, keyring, settings, step, result, actor=f"connector:{step.datastore_key}")
    return step


async def _read(request: Request) -> bytes:
    """The raw body, refusing more than MAX_BODY_BYTES without reading it all into memory first."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/{step_id}",
    openapi_extra=PUBLIC,
    dependencies=[Depends(callback_rate_limited("callbacks"))],
    summary="An HTTP connector's late answer for one step (bearer callback token + signed body).",
)
async def callback(step_id: str, request: Request, db: DB) -> CallbackOut:
    body = await _read(request)
    state = request.app.state
    step = await run_in_threadpool(
        receive,
        db,
        state.keyring,
        state.settings,
        step_id,
        authorization=request.headers.get("authorization", ""),
        signature=request.headers.get("x-privet-signature", ""),
        body=body,
    )
    return CallbackOut(step_id=step.id, status=step.status)
