"""Security headers for pages: a strict Content-Security-Policy with a per-request nonce, and friends.

Pure ASGI (no per-request task switching like BaseHTTPMiddleware). API paths pass straight through: the
decision and recording lanes must stay cheap, and JSON needs no CSP. Pages may use inline `<script>` and
`<style>` only with `nonce="{{ nonce }}"`; everything else comes from this origin. No framing (clickjacking),
no referrer leaving the site, no MIME sniffing.
"""

from __future__ import annotations

import secrets
from typing import Any

API_PREFIX = "/api/"


def content_security_policy(nonce: str) -> str:
    """The policy of every HTML page."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data: https:; "
        "font-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    """Adds CSP (HTML only), X-Content-Type-Options, Referrer-Policy and X-Frame-Options to non-API answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", content_security_policy(nonce).encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                for name, value in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")):
                    if name not in names:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
