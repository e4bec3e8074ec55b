"""Decision routes: one decision, a batch of up to 1,000, and the change feed the SDK's cache follows.

Speed: the app keeps one in-memory `Decider` (loaded on the first decision, off the event loop). Each request
runs one cheap query (the ledger's max seq and the policy's version, `decider.generation`) and applies new ledger
records before answering, so an answer never lags a recorded change; the decision itself is dict lookups, and
the answer is serialised by hand rather than through response-model validation. The query's connection is
opened again by itself when the database drops it (`decisions.watch`); meanwhile decisions answer 503.
`POST /decisions` is a `LeanRoute` (`privet.auth.lean_route`): authenticated and validated on the event loop
without FastAPI's dependency machinery, the one path that answers it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.auth.callers import REVOCATIONS_READ
from privet.auth.deps import require
from privet.auth.keys import revocations_statement
from privet.auth.lean_route import LeanRoute, validated
from privet.consent.decisions.rules import BAD_INPUT, CHANNELS, UNKNOWN_SUBJECT, Decision
from privet.consent.decisions.service import Decider
from privet.consent.decisions.watch import GenerationWatch
from privet.consent.models import ConsentRecord
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.outage import store_down, store_unavailable

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.datastructures import State

    from privet.kit.crypto import Keyring

router = APIRouter(prefix="/decisions", tags=["decisions"])
MAX_BATCH = 1000
_LOAD_LOCK = threading.Lock()
Key = Annotated[str, Field(min_length=1, max_length=160)]
_FRESH = "privet.decider"  # scope key: the Decider brought up to date for this request


class IdentityIn(BaseModel):
    """An identity of the subject, e.g. {"type": "email", "value": "..."}; sent in the body, never in a URL."""

    model_config = ConfigDict(extra="forbid")
    type: Key
    value: Annotated[str, Field(min_length=1, max_length=320)]


class DecisionIn(BaseModel):
    """Who (exactly one of subject_id, identity, visitor_id), for which purpose, and optionally more."""

    model_config = ConfigDict(extra="forbid")
    subject_id: Key | None = None
    identity: IdentityIn | None = None
    visitor_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    purpose: Key
    categories: Annotated[list[Key], Field(max_length=64)] | None = Field(
        None, description="Data categories to use; default: the purpose's own."
    )
    region: Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$|^EU$|^EEA$|^GLOBAL$")] | None = Field(
        None, description="Where the data would be used; outside the organisation's region needs transfer consent."
    )
    at: AwareDatetime | None = Field(None, description="Decide as the ledger stood at this time (default: now).")
    channel: Literal["email", "sms", "push"] | None = Field(
        None,
        description="The channel a message would go by: marketing the person switched off on this channel is "
        "denied (CHANNEL_OPTED_OUT); service notices cannot be switched off.",
    )

    @model_validator(mode="after")
    def _one_holder(self) -> DecisionIn:
        if sum(x is not None for x in (self.subject_id, self.identity, self.visitor_id)) != 1:
            raise ValueError("name exactly one of subject_id, identity or visitor_id")
        return self


class BatchIn(BaseModel):
    """Up to 1,000 questions answered in order."""

    model_config = ConfigDict(extra="forbid")
    items: list[DecisionIn]


class DecisionOut(BaseModel):
    """A decision; `holders` are the ledger holders it drew on (what the change feed names)."""

    allowed: bool
    reason: str
    legal_basis: str | None
    record_id: str | None
    purpose: str
    holders: list[str]


class BatchOut(BaseModel):
    """The answers, in the order of the questions."""

    items: list[DecisionOut]


def load_decider(app: FastAPI) -> Decider:
    """Load the app's Decider once (thread-safe); the lifespan may call it in a thread to warm up a worker."""
    with _LOAD_LOCK:
        decider = getattr(app.state, "decider", None)
        if decider is None:
            try:
                with app.state.sessionmaker() as session:
                    decider = Decider.load(session)
                # the API-key revocation generation in the same query: a decision reads the store once
                app.state.decision_watch = GenerationWatch(
                    app.state.sessionmaker, revocations_statement().scalar_subquery()
                )
            except Exception as exc:
                if store_unavailable(exc):
                    raise store_down() from None
                raise
            app.state.decider = decider
        return decider


async def current_decider(request: Request) -> Decider:
    """The app's Decider, loaded once (in a worker thread), brought up to date with the store: one raw query (none
    more when `DecisionRoute.prepare` ran it for this request)."""
    decider = request.scope.get(_FRESH)
    if decider is not None:
        return decider
    state = request.app.state
    if getattr(state, "decider", None) is None:
        await anyio.to_thread.run_sync(load_decider, request.app)
    return fresh_decider(state)[0]


def fresh_decider(state: State) -> tuple[Decider, int]:
    """The loaded Decider brought up to date with the store (one raw query; a refresh when the ledger moved), and
    the API-key revocation generation read in the same query."""
    decider = state.decider
    # reconnects by itself; raises Unavailable (503) while the store is gone
    *read, revocations = state.decision_watch()
    gen = tuple(read)
    if gen != decider.generation:
        try:
            with state.sessionmaker() as session:
                decider.refresh(session, gen)  # a refresh cut short is finished by the next one (idempotent)
        except Exception as exc:
            if store_unavailable(exc):
                raise store_down() from None
            raise
    return decider, revocations or 0


class DecisionRoute(LeanRoute):
    """`POST /decisions`: the decision's one store read, made before authentication, serves both."""

    async def prepare(self, request: Request) -> None:
        state = request.app.state
        if getattr(state, "decider", None) is None:  # not loaded yet: nobody unauthenticated makes a worker load it
            return
        try:
            request.scope[_FRESH], request.scope[REVOCATIONS_READ] = fresh_decider(state)
        except PrivetError:  # the store is away: answered in the usual order below (401 before 503)
            return


class _Sessions:
    """An ORM session opened only if a question needs the store (identities, earlier times, new subjects)."""

    def __init__(self, factory: Callable[[], Session]) -> None:
        self.factory = factory
        self.session: Session | None = None

    def get(self) -> Session:
        if self.session is None:
            self.session = self.factory()
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def _one(decider: Decider, q: tuple, sessions: _Sessions, keyring: Keyring) -> tuple[Decision, list[str]]:
    """q = (subject_id, identity, visitor_id, purpose, categories, region, at, channel)."""
    subject_id, identity, visitor_id, purpose, categories, region, at, channel = q
    if identity is not None:
        from privet.subjects.service import find_subject

        found = find_subject(sessions.get(), keyring, identity.type, identity.value)
        subject_id = found.id if found is not None else ""  # "": no such subject
    session = sessions.get() if at is not None else None
    decision = decider.decide(purpose, subject_id, visitor_id, categories, region, at, session=session, channel=channel)
    if decision.reason == UNKNOWN_SUBJECT and subject_id:  # perhaps created since the snapshot: look in the store
        decision = decider.decide(
            purpose, subject_id, visitor_id, categories, region, at, session=sessions.get(), channel=channel
        )
    return decision, decider.holder_keys(subject_id, visitor_id)


def _question(item: DecisionIn) -> tuple:
    return (
        item.subject_id,
        item.identity,
        item.visitor_id,
        item.purpose,
        item.categories,
        item.region,
        item.at,
        item.channel,
    )


_PLAIN_CHANNELS = frozenset(CHANNELS)


def plain_channel(item: dict) -> tuple[bool, str | None]:
    """(whether the item is plain, its channel): {subject_id | visitor_id, purpose} with an optional known channel;
    the batch's quick check takes only these."""
    size = len(item)
    if size == 2:
        return True, None
    channel = item.get("channel")
    return (size == 3 and type(channel) is str and channel in _PLAIN_CHANNELS), channel


def _encode(decision: Decision, purpose: str, holders: list[str]) -> str:
    """One answer as JSON, by hand: reason codes, bases and record ids are plain ASCII keys; the rest is escaped."""
    basis, record = decision.legal_basis, decision.record_id
    return (
        f'{{"allowed":{"true" if decision.allowed else "false"},"reason":"{decision.reason}",'
        f'"legal_basis":{"null" if basis is None else _dumps(basis)},'
        f'"record_id":{"null" if record is None else _dumps(record)},"purpose":{_dumps(purpose)},'
        f'"holders":{_dumps(holders)}}}'
    )


def _fast_items(body: bytes) -> list[tuple]:
    """Batch items as questions: plain {subject_id|visitor_id, purpose} items are checked by hand (the common case,
    ~10x cheaper than a model each); anything else goes through DecisionIn for full validation and error paths."""
    try:
        data = json.loads(body)
    except ValueError:
        raise RequestValidationError([{"loc": ("body",), "msg": "the body is not JSON", "type": "json"}]) from None
    items = data.get("items") if isinstance(data, dict) and set(data) == {"items"} else None
    if not isinstance(items, list):
        validated(BatchIn, data, ("body",))
    assert isinstance(items, list)  # validated raised: BatchIn takes nothing but {"items": [...]}
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            f"Batch too large: {len(items):,} items, at most {MAX_BATCH:,}",
            f"split it into batches of {MAX_BATCH:,} or fewer",
        )
    out: list[tuple] = []
    for i, item in enumerate(items):
        plain, channel = plain_channel(item) if type(item) is dict else (False, None)
        purpose = item.get("purpose") if plain else None
        if type(purpose) is str and 0 < len(purpose) <= 160:
            sid, vid = item.get("subject_id"), item.get("visitor_id")
            if type(sid) is str and 0 < len(sid) <= 160:
                out.append((sid, None, None, purpose, None, None, None, channel))
                continue
            if type(vid) is str and 0 < len(vid) <= 64:
                out.append((None, None, vid, purpose, None, None, None, channel))
                continue
        out.append(_question(validated(DecisionIn, item, ("body", "items", i))))
    return out


def _bad_input(decision: Decision, purpose: str, where: str) -> Problem:
    if decision.reason == "UNKNOWN_PURPOSE":
        return Problem(
            f"unknown purpose {purpose!r}",
            f"{where}.purpose",
            "use a purpose key of the taxonomy (privet taxonomy list purposes)",
        )
    if decision.reason == "UNKNOWN_CHANNEL":
        return Problem("unknown channel", f"{where}.channel", "use one of: " + ", ".join(CHANNELS))
    return Problem(
        "unknown data category",
        f"{where}.categories",
        "use category keys of the taxonomy (privet taxonomy list categories)",
    )


def _json(body: object) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


_dumps = json.JSONEncoder(separators=(",", ":")).encode


async def decide_one(body: DecisionIn, request: Request) -> Response:
    # Dict lookups in the app's Decider; the store only for identities, earlier times, new subjects. (No docstring:
    # it would become the operation's description in /openapi.json.)
    decider, sessions = await current_decider(request), _Sessions(request.app.state.sessionmaker)
    try:
        decision, holders = _one(decider, _question(body), sessions, request.app.state.keyring)
    finally:
        sessions.close()
    if decision.reason in BAD_INPUT:
        problem = _bad_input(decision, body.purpose, "body")
        raise InvalidInput(problem.message.capitalize(), problem.hint, [problem])
    return Response(_encode(decision, body.purpose, holders), media_type="application/json")


router.add_api_route(
    "",
    decide_one,
    methods=["POST"],
    route_class_override=DecisionRoute,
    summary="Decide whether a subject's data may be used for a purpose.",
    dependencies=[Depends(require("decide"))],
    responses={200: {"model": DecisionOut}},
)


@router.post(
    "/batch",
    summary="Decide up to 1,000 questions at once, answered in order.",
    dependencies=[Depends(require("decide"))],
    responses={200: {"model": BatchOut}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["items"],
                        "additionalProperties": False,
                        "properties": {
                            "items": {
                                "type": "array",
                                "maxItems": MAX_BATCH,
                                "items": {"$ref": "#/components/schemas/DecisionIn"},
                            }
                        },
                    }
                }
            },
        }
    },
)
async def decide_batch(request: Request) -> Response:
    questions = _fast_items(await request.body())  # parsed by hand: see _fast_items
    keyring = request.app.state.keyring
    decider, sessions = await current_decider(request), _Sessions(request.app.state.sessionmaker)
    try:
        answers = [_one(decider, q, sessions, keyring) for q in questions]
    finally:
        sessions.close()
    bad = [
        _bad_input(d, q[3], f"body.items.{i}")
        for i, (q, (d, _)) in enumerate(zip(questions, answers))
        if d.reason in BAD_INPUT
    ]
    if bad:
        raise InvalidInput(
            f"{len(bad)} item(s) name unknown purposes or categories",
            "fix them and send the batch again; nothing was decided",
            bad,
        )
    body = ",".join([_encode(d, q[3], h) for q, (d, h) in zip(questions, answers)])
    return Response('{"items":[' + body + "]}", media_type="application/json")


def policy_tag(decider: Decider) -> str:
    """Changes whenever the policy (data map, notices) changes: SDK caches drop everything then."""
    return hashlib.sha256(repr(decider.policy.key).encode()).hexdigest()[:16]


@router.get(
    "/changes",
    summary="Ledger changes after a seq: which holder and purpose changed, no identities.",
    dependencies=[Depends(require("decide"))],
)
async def changes(
    request: Request,
    after: int = Query(0, ge=0, le=2**62, description="The last seq already seen."),
    limit: int = Query(1000, ge=1, le=10_000, description="Changes per page."),
    after_subjects: int | None = Query(
        None,
        ge=0,
        le=2**62,
        description="The `subjects_seq` of the previous page: subjects whose "
        "channel preferences, age, merges, links or guardians changed since then are listed in "
        "`subjects`. Leave it out on the first call.",
    ),
) -> Response:
    from privet.consent.decisions.snapshot import subject_changes

    r = ConsentRecord.__table__.c
    decider = await current_decider(request)
    assert decider.generation is not None  # loading read it
    audit_head = decider.generation[0] or 0  # the audit seq the decider is current with
    subjects: list[str] = []
    with request.app.state.sessionmaker() as session:
        rows = session.execute(
            select(r.seq, r.subject_id, r.visitor_id, r.purpose).where(r.seq > after).order_by(r.seq).limit(limit)
        ).all()
        if after_subjects is None or after_subjects >= audit_head:
            subjects_seq, cut = max(audit_head, after_subjects or 0), False
        else:
            subjects, subjects_seq = subject_changes(session, after_subjects, audit_head, limit)
            cut = subjects_seq < audit_head
    items = [
        {"seq": seq, "holder": f"s:{sid}" if sid is not None else f"v:{vid}", "purpose": purpose}
        for seq, sid, vid, purpose in rows
    ]
    return _json(
        {
            "changes": items,
            "last_seq": items[-1]["seq"] if items else after,
            "more": len(items) == limit or cut,
            "head": decider.seq,
            "policy": policy_tag(decider),
            "subjects": [f"s:{sid}" for sid in dict.fromkeys(subjects)],
            "subjects_seq": subjects_seq,
        }
    )
