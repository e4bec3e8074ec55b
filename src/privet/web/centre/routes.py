"""The privacy centre at `/`: policies, sign-in, consents, requests, for people (public, rate-limited).

Each concern is a module of its own with its router: `policy` (/, /policy/...), `signin` (/signin, /signout),
`consents` (/consents), `requests` (/requests), `sources` (/sources: where information comes from, contacts).
Every form is CSRF-checked; nothing personal goes into URLs.
"""

from __future__ import annotations

from fastapi import APIRouter

from privet.web.centre import consents, policy, requests, signin, sources

router = APIRouter(include_in_schema=False)
for part in (policy, signin, consents, requests, sources):
    router.include_router(part.router)
