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
from ioffice.kernel.ports import BlobStore

from .settings import Settings

if TYPE_CHECKING:
    from certs.devpki import DevPki
    from signing.adapter import PyHankoSigning

    from .mailer import AfterCommitMailer

log = logging.getLogger("ioffice")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    # The development PKI, when this instance uses it (set by the app factory).
    devpki: DevPki | None = None
    # The after-commit mailer (api.mailer.install); None without SMTP settings.
    mailer: AfterCommitMailer | None = None
    mailer_installed: bool = False
    # Trust roots loaded once (api.trust.trust_roots).
    trust_roots_cache: list[Any] | None = None
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

    @classmethod
    def from_settings(cls, settings: Settings) -> "Container":
        from ioffice.kernel import workcalendar
        from storage import open_blob_store

        workcalendar.configure(workcalendar.parse_dates(settings.holidays))
        engine = make_engine(settings.db_url)
        store = open_blob_store(
            settings.blob_url,
            s3_endpoint=settings.s3_endpoint,
            s3_access_key=settings.s3_access_key,
            s3_secret_key=settings.s3_secret_key,
            s3_secure=settings.s3_secure,
            s3_region=settings.s3_region,
        )
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine), store=store)

    def close(self) -> None:
        self.engine.dispose()
