"""FastAPI application factory: the composition root wires settings → adapters → routes."""
from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from . import docs, problems
from .container import Container
from .hardening import secure_data_dir
from .middleware import AdmissionGate, BodyGuard, CatchAll, SecurityHeaders
from .proxies import ForwardedFor
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
    "api.routes.preview",
    "api.routes.workflow",
    "api.routes.tasks",
    "api.routes.registers",
    "api.routes.copies",
    "api.routes.signing_methods",
    "api.routes.batches",
]


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               serving: bool = False) -> FastAPI:
    """The application. ``serving``: built by a worker of ``ioffice serve`` (see ``_settle``)."""
    settings = settings or (container.settings if container else Settings())
    secure_data_dir(settings)
    container = container or Container.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        from .audit_anchor import anchor_periodically

        anchoring = None
        if settings.audit_anchor_interval_minutes > 0:
            anchoring = asyncio.create_task(
                anchor_periodically(container, settings.audit_anchor_interval_minutes * 60))
        if serving:
            _settle()
        yield
        if anchoring is not None:
            anchoring.cancel()
        container.close()

    app = FastAPI(
        title="ioffice",
        version="0.1.0",
        description="Quản lý văn bản và ký số PAdES cho cơ quan nhà nước — document management and digital signing.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    problems.install(app)
    docs.install(app)
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        app.include_router(module.router)
    _mount_dev_pki(app, container)
    from . import pages

    pages.install(app)
    # Multipart overhead on top of the file itself.
    app.add_middleware(BodyGuard, max_bytes=settings.max_upload_bytes + 1024 * 1024,
                       timeout_seconds=settings.body_timeout_seconds)
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ForwardedFor, trusted=settings.trusted_proxies)
    # inside the access log and metrics, so the latency they report includes the wait for a turn
    app.add_middleware(AdmissionGate, limit=settings.worker_concurrency, lease=settings.worker_lease_ms / 1000,
                       exempt=("/healthz",))
    from .observability import install as install_observability

    install_observability(app)  # request ids, JSON access log, /metrics (outermost middleware)
    return app


# imported by the first verify, stamp or public register request (measured with sys.modules)
_WARM_MODULES = ("api.verify_view", "signing.validation", "signing.copystamp", "ioffice.registers.public",
                 "certs.trust")


def create_app_from_env() -> FastAPI:
    """The app factory ``ioffice serve`` hands to uvicorn: every worker process builds its own."""
    return create_app(Settings(), serving=True)


def _settle() -> None:
    """Before a worker takes requests: import what requests import on first use, then move every
    object alive now out of the garbage collector's reach (``gc.freeze``).

    A worker holds about 200,000 long-lived objects (modules, the app, SQLAlchemy's and
    pydantic's caches); every full collection walked all of them, a 75–130 ms pause in which the
    worker serves nobody and every request queued on it waits. Frozen, a full collection during
    load takes about 5 ms. Freezing is for the serving process only: a process that builds apps
    again and again (the test suite) would keep every frozen object for good."""
    import gc

    for module in _WARM_MODULES:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()


def _mount_dev_pki(app: FastAPI, container: Container) -> None:
    """Serve the development TSA/OCSP/CRL when this instance uses the development PKI."""
    settings = container.settings
    if not (settings.pki_dir / "manifest.json").exists() and not settings.pki_dir.exists():
        return
    try:
        from api.routes.devpki import make_router
        from certs.devpki import ensure_dev_pki
    except ImportError:  # pragma: no cover - during development of the signing layer
        return
    try:
        pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="ioffice",
                             signers=[], base_url=settings.base_url.rstrip("/") + "/dev-pki")
    except Exception as exc:  # a broken PKI must not stop the service; signing reports it
        log.warning("development PKI unavailable: %s", type(exc).__name__)
        return
    container.devpki = pki
    if settings.production_trust:  # real keys and TSA: the development services stay off
        return
    from ioffice.accounts.ratelimit import hit

    from .deps import client_addr

    def limit(request: Request) -> None:
        hit(container.sessions, key=f"dev-pki:{client_addr(request) or '-'}",
            limit=settings.dev_pki_rate_limit_per_minute)

    app.include_router(make_router(pki, limit=limit))
