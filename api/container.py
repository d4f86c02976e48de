"""The composition root's wiring: one Container per app holding the engine, the blob store and the
settings-derived adapters. Built from Settings only here."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ioffice.kernel.db import make_engine, make_session_factory
from ioffice.kernel.ports import BlobStore

from .settings import Settings

log = logging.getLogger("ioffice")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    extras: dict[str, Any] = field(default_factory=dict)  # lazily built adapters (signers, PKI, …)

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
