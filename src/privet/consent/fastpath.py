"""The decision API's fast lane: plain single decisions answered before FastAPI's routing and validation.

`POST /api/v1/decisions` is the route every service of the company calls before it uses someone's data, so its
cost per request matters more than any other. A request qualifies for this lane when its bearer key was checked
against the store in the last few seconds (`privet.auth.keys.recent_principal`) and holds the `decide` scope,
the app's Decider is loaded, and the body is the plain shape `{"subject_id" | "visitor_id": ..., "purpose": ...}`,
optionally with a known `"channel"` (P44).
Everything else (first use of a key, identities, categories, earlier times, unknown purposes or subjects, bad
JSON) is handed to the FastAPI route unchanged, which answers with the full validation and error paths. Both
lanes answer with the same bytes (`decisions_api.encode_answer`).
"""

from __future__ import annotations

import orjson

from privet.auth.keys import recent_principal
from privet.kit.errors import PrivetError

_HEADERS = [(b"content-type", b"application/json")]
_MAX_BODY = 4096  # a plain decision is ~100 bytes; anything bigger takes the full route


class DecisionFastLane:
    """ASGI middleware answering plain single decisions; passes every other request through untouched."""

    def __init__(self, app, path: str) -> None:  # noqa: ANN001
        self.app, self.path = app, path

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, whole = await _read(receive)
        answer = _answer(scope, body) if whole else None
        if answer is None:
            await self.app(scope, _replay(body, whole, receive), send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})


async def _read(receive) -> tuple[bytes, bool]:  # noqa: ANN001
    """The body if it is small (True), else what was read so far (False: the route reads the rest)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the route see it
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > _MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, whole: bool, receive):  # noqa: ANN001, ANN202
    """A receive callable giving the route the body already read, then the rest from the client."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not whole}
        return await receive()

    return replay


def _answer(scope: dict, body: bytes) -> bytes | None:
    """The answer's bytes, or None when the full route must handle this request."""
    principal = recent_principal(_bearer(scope))
    if principal is None or "decide" not in principal.scopes:
        return None
    state = scope["app"].state
    decider = getattr(state, "decider", None)
    if decider is None:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    from privet.consent.decisions_api import fresh_decider, plain_channel, quick_answer

    plain, channel = plain_channel(data)
    if not plain:
        return None
    purpose, sid, vid = data.get("purpose"), data.get("subject_id"), data.get("visitor_id")
    if type(purpose) is not str or not 0 < len(purpose) <= 160:
        return None
    if sid is not None:
        if type(sid) is not str or not 0 < len(sid) <= 160:
            return None
    elif type(vid) is not str or not 0 < len(vid) <= 64:
        return None
    try:
        decider = fresh_decider(state)
    except PrivetError:  # the store is away: the route answers the 503 problem (no exception handler runs here)
        return None
    return quick_answer(decider, sid, vid, purpose, channel)


def _bearer(scope: dict) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            return text[7:].strip() if text[:7].lower() == "bearer " else ""
    return ""
