"""`/docs`: Swagger UI for the API, served by Privet itself under its Content-Security-Policy.

The assets come from the `swagger-ui-bundle-v2` package (installed with Privet; no CDN, nothing fetched at run
time) and are mounted at `/docs/assets`; the start-up script is a static file of Privet's own
(`static/docs/start.js`), so the page needs no inline script. ReDoc is not offered.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = "/docs/assets"


def _page(title: str, openapi_url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="/static/docs/start.js"></script>
</body>
</html>
"""


def mount_docs(app: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI at `path` (a plain route, public like `/openapi.json`: it shows no data)."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(
            _page(request.app.title, request.app.openapi_url or "/openapi.json"), headers={"Cache-Control": "no-cache"}
        )

    app.add_route(path, docs, include_in_schema=False)
