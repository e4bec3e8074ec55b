"""Banner fixtures: the Keptek data map for TestClient tests, and a demo website on ANOTHER origin for the browser.

The demo site is a tiny `http.server` on `localhost:<port>` (Privet is served on `127.0.0.1:<other port>`, so the
banner really runs cross-origin). `/page?site=…&lang=…` is a shop page with the script tag, a stub `gtag` that
records its calls in `window.gtagCalls`, and inert scripts per category that set `window.<category>Ran = true`.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[3]
KEPTEK = ROOT / "examples" / "keptek" / "datamap"

GPC_SCRIPT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Demo shop</title>
<script nonce="n0nce">window.gtagCalls = [];
window.gtag = function () {{ window.gtagCalls.push(Array.from(arguments)); }};</script>
<script src="{privet}/banner.js" data-site="{site}"></script>
</head><body>
<main><h1>Demo shop</h1><p>Things for sale.</p>
<p><a href="#" id="settings-link" data-privet-settings>{settings}</a></p>
<button type="button" id="page-button">A page button</button></main>
<script type="text/plain" data-category="analytics" nonce="n0nce">window.analyticsRan = true;</script>
<script type="text/plain" data-category="marketing" nonce="n0nce">window.marketingRan = true;</script>
<script type="text/plain" data-category="preferences" nonce="n0nce">window.preferencesRan = true;</script>
</body></html>
"""


@pytest.fixture
def keptek(db: Session) -> Session:
    """The Keptek data map applied in the test's transaction (analytics.usage, marketing.personalisation and
    analytics.click_tracking rest on consent)."""
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db


@pytest.fixture(scope="session")
def shop(site) -> Iterator[str]:
    """Base URL of the demo website (another origin than Privet's)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/page":
                self.send_error(404)
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = PAGE.format(
                lang=html.escape(query.get("lang", "en")),
                privet=site.url,
                site=html.escape(query.get("site", "shop")),
                settings="Cookie 设置" if query.get("lang", "").startswith("zh") else "Cookie settings",
            )
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if query.get("csp"):  # a strict site: no inline code without its nonce, no inline styles at all
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src 'nonce-n0nce' {site.url}; "
                    f"style-src 'self'; connect-src {site.url}; img-src 'self'",
                )
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def visit(browser, shop: str) -> Iterator[Callable]:
    """visit(site=..., lang=..., gpc=..., cookies=...) → a page of the demo shop in a fresh browser context."""
    contexts = []

    def open_page(
        site: str = "shop",
        lang: str = "en",
        gpc: bool = False,
        cookies: list | None = None,
        locale: str = "en-US",
        csp: bool = False,
    ):
        context = browser.new_context(locale=locale, extra_http_headers={"Sec-GPC": "1"} if gpc else None)
        context.set_default_timeout(15_000)
        if gpc:
            context.add_init_script(GPC_SCRIPT)
        if cookies:
            context.add_cookies(cookies)
        contexts.append(context)
        tab = context.new_page()
        tab.goto(f"{shop}/page?site={site}&lang={lang}" + ("&csp=1" if csp else ""))
        return tab

    yield open_page
    for context in contexts:
        context.close()
