"""FastAPI application factory: the composition root wires settings → adapters → routes."""
from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ioffice.errors import PayloadTooLarge

from . import problems
from .container import Container
from .settings import Settings

log = logging.getLogger("ioffice")

# Route modules, each exposing ``router`` (an APIRouter). Add one line per module.
ROUTE_MODULES = [
    "api.routes.health",
    "api.routes.auth",
    "api.routes.documents",
    "api.routes.admin",
    "api.routes.verify",
    "api.routes.signing",
    "api.routes.workflow",
    "api.routes.tasks",
    "api.routes.registers",
    "api.routes.signing_methods",
    "api.routes.batches",
]


class BodySizeLimit:
    """Pure ASGI middleware: rejects a request body larger than the limit while it streams in
    (Content-Length checked up front, chunked bodies counted), so an oversized upload never
    reaches the disk in full."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return await _reject(scope, send, limit)
                except ValueError:
                    pass
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
            return message

        return await self.app(scope, limited_receive, send)


async def _reject(scope, send, limit: int) -> None:
    resp = problems.problem(413, "payload-too-large", "Tệp vượt quá dung lượng cho phép",
                            f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", scope.get("path"))
    await resp({"type": "http", **scope}, None, send)


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    settings = settings or (container.settings if container else Settings())
    container = container or Container.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        container.close()

    app = FastAPI(
        title="ioffice",
        version="0.1.0",
        description="Quản lý văn bản và ký số PAdES cho cơ quan nhà nước — document management and digital signing.",
        lifespan=lifespan,
    )
    app.state.container = container
    problems.install(app)
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        app.include_router(module.router)
    _mount_dev_pki(app, container)
    from .routes.signing import make_issue_seal

    container.extras.setdefault("issue_seal", make_issue_seal(container))
    # Multipart overhead on top of the file itself.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 1024 * 1024)
    return app


def _mount_dev_pki(app: FastAPI, container: Container) -> None:
    """Serve the development TSA/OCSP/CRL when this instance uses the development PKI."""
    settings = container.settings
    if not (settings.pki_dir / "manifest.json").exists() and not settings.pki_dir.exists():
        return
    try:
        from certs.devpki import ensure_dev_pki
        from api.routes.devpki import make_router
    except ImportError:  # pragma: no cover - during development of the signing layer
        return
    try:
        pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="ioffice",
                             signers=[], base_url=settings.base_url.rstrip("/") + "/dev-pki")
    except Exception as exc:  # a broken PKI must not stop the service; signing reports it
        log.warning("development PKI unavailable: %s", type(exc).__name__)
        return
    container.extras["devpki"] = pki
    app.include_router(make_router(pki))
