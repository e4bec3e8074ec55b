"""The recording fast lane: single consent recordings handed to the group-commit writer before FastAPI routes them.

Services record consent as they use it, so `POST /api/v1/consent/records` is the busiest write. Most of what a
request costs there is FastAPI's route matching and dependency machinery, not the recording (which the writer
batches). A request takes this lane when its bearer key was checked against the store in the last few seconds
and holds `consent:write` (`privet.auth.keys.recent_principal`), and its body validates as `RecordIn` (the same
model, so the same rules). Anything else (a first use of a key, a cookie session, a body that does not
validate, a large body) goes to the route unchanged, which answers with the full validation and error paths.
Both answer with the same bytes: the record as `RecordOut` JSON, or the problem body of the recording's error.
Mounted by `create_app` like the decision lane: `app.add_middleware(RecordingFastLane, path=...)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from privet.auth.keys import recent_principal
from privet.consent.fastpath import _bearer, _read, _replay  # the decision lane's ASGI body helpers
from privet.kit.errors import PrivetError

_HEADERS = [(b"content-type", b"application/json")]


class RecordingFastLane:
    """ASGI middleware recording plain, valid single recordings; passes every other request through untouched."""

    def __init__(self, app: Any, path: str) -> None:
        self.app, self.path = app, path

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, whole = await _read(receive)
        item = _recording(scope, body) if whole else None
        if item is None:
            await self.app(scope, _replay(body, whole, receive), send)
            return
        await _answer(scope, receive, send, item)


def _recording(scope: dict, body: bytes):  # noqa: ANN202 - a batch.Recording or None
    """The recording this request asks for, or None when the route must handle it."""
    from privet.consent.batch import Recording
    from privet.consent.schemas import RecordIn

    principal = recent_principal(_bearer(scope))
    if principal is None or "consent:write" not in principal.scopes:
        return None
    try:
        data = RecordIn.model_validate_json(body)
    except ValidationError:
        return None
    agent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"user-agent"), None)
    client = scope.get("client")
    identity = (data.identity.type, data.identity.value) if data.identity is not None else None
    return Recording(actor=principal.actor, identity=identity, client_ip=client[0] if client else None,
                     user_agent=agent, **data.model_dump(exclude={"identity"}))


async def _answer(scope: dict, receive: Any, send: Any, item: Any) -> None:
    from starlette.requests import Request

    from privet.consent.schemas import RecordOut
    from privet.consent.writer import writer_for
    from privet.kit.web import on_unexpected_error, problem_response

    try:
        row = await writer_for(scope["app"]).record(item)
    except PrivetError as exc:
        await problem_response(exc)(scope, receive, send)
        return
    except Exception as exc:  # noqa: BLE001 - answered like the app's handler: a problem body, no internals
        await (await on_unexpected_error(Request(scope), exc))(scope, receive, send)
        return
    answer = RecordOut.model_validate(row).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 201,
                "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})
