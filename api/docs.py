"""Interactive API docs at ``/docs`` served entirely by this app: Swagger UI (vendored from the
``swagger-ui-dist`` npm package, with its licence, under ``api/static/swagger-ui``) and an external
initialiser script, so the page loads nothing from a CDN and needs no inline script."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"

_PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ioffice — API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_PAGE)

    @app.get("/docs/oauth2-redirect", response_class=HTMLResponse, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "swagger-ui" / "oauth2-redirect.html").read_text()
                            .replace('src="oauth2-redirect.js"', 'src="/static/swagger-ui/oauth2-redirect.js"'))
