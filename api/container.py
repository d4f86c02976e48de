"""The composition root's wiring: one Container per app holding the engine, the blob store and the
settings-derived adapters. Built from Settings only here."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ioffice.kernel.db import make_engine, make_session_factory
from ioffice.kernel.ports import BlobStore, PdfValidationPort

from .budget import ValidationBudget
from .settings import Settings

if TYPE_CHECKING:
    from certs.devpki import DevPki
    from signing.adapter import PyHankoSigning

    from .mailer import AfterCommitMailer, QueuedMailer

log = logging.getLogger("ioffice")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    # Sessions for read-only work (GET/HEAD requests, the read phase of signing): on SQLite they
    # begin DEFERRED and never take the write lock. Defaults to ``sessions``.
    read_sessions: sessionmaker[Session] | None = None
    # The development PKI, when this instance uses it (set by the app factory).
    devpki: DevPki | None = None
    # The after-commit mailer (api.mailer.install); None without SMTP settings.
    mailer: AfterCommitMailer | QueuedMailer | None = None
    mailer_installed: bool = False
    # Trust roots loaded once (api.trust.trust_roots).
    trust_roots_cache: list[Any] | None = None
    # threads that wait for remote (CSC) signers to confirm on their phone
    remote_executor: Any | None = None
    # bytes of files in public validation at once (api.budget), built from settings
    validation_budget: ValidationBudget | None = None
    # the background job queue (api.jobs.install), built on first use
    jobs: Any | None = None
    _signing: PyHankoSigning | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def signing(self) -> PyHankoSigning:
        """The pyHanko signing adapter (``ioffice.signatures`` ports), built on first use."""
        with self._lock:
            if self._signing is None:
                from .signing_adapter import build_signing

                self._signing = build_signing(self)
            return self._signing

    @property
    def validator(self) -> PdfValidationPort:
        """The signature validation (``ioffice.kernel.ports.PdfValidationPort``), with the trust roots."""
        from signing.validation.port import PyHankoValidation

        from .trust import trust_roots

        return PyHankoValidation(lambda: trust_roots(self))

    @classmethod
    def from_settings(cls, settings: Settings) -> Container:
        from ioffice.kernel import workcalendar
        from storage import open_blob_store

        workcalendar.configure(workcalendar.parse_dates(settings.holidays))
        engine = make_engine(settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        store = open_blob_store(
            settings.blob_url,
            s3_endpoint=settings.s3_endpoint,
            s3_access_key=settings.s3_access_key,
            s3_secret_key=settings.s3_secret_key,
            s3_secure=settings.s3_secure,
            s3_region=settings.s3_region,
        )
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine),
                   read_sessions=make_session_factory(engine, read_only=True), store=store)

    def __post_init__(self) -> None:
        if self.read_sessions is None:
            self.read_sessions = self.sessions
        if self.validation_budget is None:
            self.validation_budget = ValidationBudget(self.settings.public_validation_budget_bytes)

    def read_session(self) -> Session:
        """A new session for read-only work (``read_sessions``; ``sessions`` when none is set)."""
        return (self.read_sessions or self.sessions)()

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.close()
        if self.remote_executor is not None:
            self.remote_executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()
