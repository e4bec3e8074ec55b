"""Downloading an access package with its expiring link: `GET /api/v1/public/packages/{token}`.

The link's token is the credential (it reaches only the verified requester, by their own e-mail or SMS, and
works a limited number of times until it expires). When the caller also sends a subject session
(`Authorization: Subject ...`, as the privacy centre does), it must be the request's subject: a link forwarded
to someone who is logged in as somebody else is refused (403) without counting a download. An invalid session
header is a 401, never silently ignored.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from privet.auth.deps import PUBLIC
from privet.db.engine import begin_write
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.requests.models import DsrRequest
from privet.requests.packages.service import open_package
from privet.subjects import sessions

router = APIRouter(prefix="/public/packages", tags=["packages"])


def _subject_id(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != sessions.SCHEME.lower():
        return None
    return sessions.read(request.app.state.keyring, token).subject_id


@router.get(
    "/{token}",
    openapi_extra={**PUBLIC, **sessions.OPTIONAL_SESSION},
    dependencies=[Depends(rate_limited("packages"))],
    response_class=Response,
    summary="Download an access package (a zip) with the link from the message.",
    responses={
        200: {"content": {"application/zip": {}}, "description": "The package."},
        404: {"description": "Not a valid link."},
        410: {"description": "Expired, deleted, or downloaded the allowed number of times."},
    },
)
def download(token: str, request: Request, db: DB) -> Response:
    subject_id = _subject_id(request)
    begin_write(db)  # counts the download: take the write lock up front (SQLite)
    package, data = open_package(db, request.app.state.keyring, token, subject_id=subject_id)
    owner = db.get(DsrRequest, package.request_id)
    assert owner is not None  # a package's request_id is a foreign key to its request
    reference = owner.reference
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="privet-{reference}.zip"',
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
