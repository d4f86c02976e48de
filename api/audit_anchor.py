"""Wiring of audit-chain anchoring (:mod:`ioffice.audit.anchors`): the agency's TSA (or the
in-process development TSA) through :class:`signing.tsa.PyHankoTimestampAuthority`, the anchors in
the blob store's write-once records, and the periodic anchoring task of the service."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ioffice.kernel.errors import DomainError, InvalidInput
from ioffice.kernel.ports import RecordStore, TimestampAuthority

from .trust import trust_roots

if TYPE_CHECKING:
    from .container import Container
    from .settings import Settings

log = logging.getLogger("ioffice.audit")


def timestamp_authority(container: Container) -> TimestampAuthority:
    """The agency's TSA (``IOFFICE_TSA_URL``) or, without one, the development TSA in-process."""
    from signing.services import http_timestamper
    from signing.tsa import PyHankoTimestampAuthority

    from .signing_adapter import _dev_timestamper

    settings = container.settings
    if settings.tsa_url:
        stamper = http_timestamper(settings.tsa_url)
    elif container.devpki is not None:
        from certs.devservices import services_for

        stamper = _dev_timestamper(services_for(container.devpki))
    else:
        raise InvalidInput("Chưa cấu hình dịch vụ cấp dấu thời gian (IOFFICE_TSA_URL) để neo nhật ký kiểm tra.")
    return PyHankoTimestampAuthority(stamper, trust_roots(container))


def record_store(container: Container) -> RecordStore:
    store = container.store
    if not isinstance(store, RecordStore):
        raise InvalidInput("Kho lưu trữ đang dùng không hỗ trợ lưu điểm neo nhật ký kiểm tra.")
    return store


def cli_container(settings: Settings) -> Container:
    """A container for one-shot commands, with the development PKI when this installation has one."""
    from .container import Container

    container = Container.from_settings(settings)
    if (settings.pki_dir / "manifest.json").exists() and not settings.tsa_url:
        from certs.devpki import ensure_dev_pki

        container.devpki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase,
                                          agency_name="ioffice", signers=[],
                                          base_url=settings.base_url.rstrip("/") + "/dev-pki")
    return container


def anchor_now(container: Container) -> int:
    """Anchor every chain head that moved since its latest anchor; returns how many were written."""
    from ioffice.audit.anchors import anchor_chains

    tsa = timestamp_authority(container)
    with container.sessions() as session:
        return len(anchor_chains(session, record_store(container), tsa))


async def anchor_periodically(container: Container, interval_seconds: float) -> None:
    """The service's anchoring loop: every ``interval_seconds``, anchor the heads that moved.
    Failures (TSA or storage down) are logged and retried at the next tick; never raises."""
    from fastapi.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(interval_seconds)
        try:
            written = await run_in_threadpool(anchor_now, container)
            if written:
                log.info("audit anchoring: %d chain head(s) anchored", written)
        except DomainError as exc:
            log.warning("audit anchoring failed: %s", exc.detail)
        except Exception:  # noqa: BLE001 - keep the loop alive
            log.exception("audit anchoring failed")
