"""Server-rendered pages (Jinja2, Vietnamese) for every person's work in the browser.

``install(app)`` mounts the static files, the page routers and the HTML error handlers; it is
the one hook in ``api/app.py``."""
from __future__ import annotations

import importlib

from fastapi.staticfiles import StaticFiles

PAGE_MODULES = [
    "api.pages.auth",
    "api.pages.forms",  # before documents: /documents/new must not match /documents/{id}
    "api.pages.documents",
    "api.pages.actions",
    "api.pages.batch",
    "api.pages.admin",
    "api.pages.admin_agency",
    "api.pages.copies",  # the certification desk; the public /verify/{code} stays in api/routes/verify.py
    "api.pages.reports",
    "api.pages.signing",
]


def install(app) -> None:
    from . import common

    app.mount("/static", StaticFiles(directory=str(common.STATIC_DIR)), name="static")
    for name in PAGE_MODULES:
        app.include_router(importlib.import_module(name).router)
    common.install(app)
