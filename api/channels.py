"""Wiring of the signing channels: the certificate checker behind ``ioffice.signing_methods``,
CSC clients built from settings, and the worker that waits for a remote (phone) confirmation
and completes the signature outside any request.

The worker keeps no state of its own: everything it needs is in the signing session rows; if
the process stops while waiting, the session expires at its ``expires_at`` and the document is
left as it was.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from ioffice import batches, signatures
from ioffice.accounts.models import User
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import DomainError, InvalidInput
from ioffice.kernel.ports import BlobStore
from ioffice.signing_methods import SigningProfile
from signing.adapter import _check_certificate_holder
from signing.remote.csc import CscClient, CscProvider, RemoteSigningExpired, RemoteSigningRefused

from .container import Container
from .signing_adapter import adapter
from .trust import trust_roots

log = logging.getLogger("ioffice.channels")
_lock = threading.Lock()


@dataclass(frozen=True)
class CheckedCertificate:
    subject: str
    not_after: datetime
    der_sha256: str


class CertificateChecker:
    """Implements ``ioffice.signing_methods.CertificateChecker`` with ``certs.checks``: validity,
    key usage, trust, revocation (hard-fail), and that the certificate names the official."""

    def __init__(self, container: Container) -> None:
        self.c = container

    def check(self, certificate_pem: str, *, full_name: str) -> CheckedCertificate:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        from certs.checks import check_signer_certificate

        try:
            cert = x509.load_pem_x509_certificate(certificate_pem.encode())
        except ValueError as exc:
            raise InvalidInput("Chứng thư số không đúng định dạng PEM.") from exc
        _check_certificate_holder(certificate_pem, full_name)
        roots = trust_roots(self.c)
        devpki = self.c.devpki
        if self.c.settings.tsa_url is None and devpki is not None:
            from certs.devservices import services_for

            services = services_for(devpki)
            check_signer_certificate(cert, devpki.chain, trust_roots=roots, allow_fetching=False,
                                     revocation_mode="hard-fail", crls=[services.crl(), services.root_crl()])
        else:
            check_signer_certificate(cert, trust_roots=roots, revocation_mode="hard-fail")
        der = cert.public_bytes(serialization.Encoding.DER)
        cn = cert.subject.rfc4514_string()
        return CheckedCertificate(
            subject=cn, not_after=cert.not_valid_after_utc, der_sha256=hashlib.sha256(der).hexdigest()
        )


def csc_client(container: Container, provider: str) -> CscClient:
    conf = (container.settings.csc_providers or {}).get(provider)
    if not conf or not conf.get("url"):
        raise InvalidInput(f"Nhà cung cấp ký số từ xa chưa được cấu hình: {provider}.")
    return CscClient(CscProvider(name=provider, url=str(conf["url"]), token=conf.get("token")),
                     timeout=container.settings.remote_confirm_timeout_seconds,
                     poll_interval=container.settings.remote_poll_interval_seconds)


def _executor(container: Container) -> ThreadPoolExecutor:
    with _lock:
        if container.remote_executor is None:
            container.remote_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="csc")
        return container.remote_executor


def submit_remote(container: Container, *, user_id: str, provider: str, credential_id: str, session_ids: list[str],
                  batch_id: str | None = None) -> None:
    """Wait for the official's confirmation and complete the signatures, in a worker thread.
    Call after the sessions are committed."""
    _executor(container).submit(_run_remote, container, user_id, provider, credential_id, session_ids, batch_id)


def _run_remote(container: Container, user_id: str, provider: str, credential_id: str, session_ids: list[str],
                batch_id: str | None) -> None:
    try:
        _remote(container, user_id, provider, credential_id, session_ids, batch_id)
    except Exception:  # noqa: BLE001 - a worker must never die silently with sessions left open
        log.exception("remote signing worker failed")
        _fail(container, session_ids, batch_id, "failed",
              "Lỗi không xác định khi ký số từ xa; văn bản giữ nguyên phiên bản trước.")


def _fail(container: Container, session_ids: list[str], batch_id: str | None, status: str, detail: str) -> None:
    db = container.sessions()
    try:
        if batch_id:
            batch = db.get(batches.SigningBatch, batch_id)
            if batch is not None:
                batches.fail_pending(db, batch=batch, status=status, detail=detail)
        for sid in session_ids:
            signatures.abandon_session(db, session_id=sid, status=status, detail=detail)
        db.commit()
    finally:
        db.close()


def _remote(container: Container, user_id: str, provider: str, credential_id: str, session_ids: list[str],
            batch_id: str | None) -> None:
    from signing.remote.csc import run

    db = container.sessions()
    try:
        rows = [db.get_one(signatures.SigningSession, sid) for sid in session_ids]
        datas = [base64.b64decode(r.state["engine"]["signed_attrs"]) for r in rows]
    finally:
        db.close()
    client = csc_client(container, provider)
    try:
        sigs = run(lambda: client.sign(credential_id, datas, description=f"ioffice: ký {len(datas)} văn bản"))
    except RemoteSigningRefused as exc:
        return _fail(container, session_ids, batch_id, "refused", exc.detail)
    except RemoteSigningExpired as exc:
        return _fail(container, session_ids, batch_id, "expired", exc.detail)
    except DomainError as exc:
        return _fail(container, session_ids, batch_id, "failed", exc.detail)
    db = container.sessions()
    try:
        user = db.get_one(User, user_id)
        caller = Caller.of(user)
        a = adapter(container)
        if batch_id:
            batch = db.get_one(batches.SigningBatch, batch_id)
            batches.complete_external(db, container.store, a, caller=caller, batch=batch,
                                      signatures_by_session=dict(zip(session_ids, sigs, strict=False)))
        else:
            try:
                with db.begin_nested():
                    signatures.complete_external(db, container.store, a, caller=caller,
                                                 session_id=session_ids[0], signature=sigs[0])
            except DomainError as exc:
                signatures.abandon_session(db, session_id=session_ids[0], status="failed", detail=exc.detail)
        db.commit()
    finally:
        db.close()


SESSION_STATUS_OUT = {"pending": "awaiting_signature", "confirming": "waiting_for_confirmation"}
SESSION_STATUS_VI = {
    "awaiting_signature": "Đang chờ thiết bị ký (USB token) ký",
    "waiting_for_confirmation": "Đang chờ người ký xác nhận trên điện thoại",
    "completed": "Đã ký",
    "refused": "Người ký đã từ chối",
    "expired": "Hết thời gian chờ; văn bản giữ nguyên",
    "failed": "Không ký được; văn bản giữ nguyên",
}


def session_view(sess: signatures.SigningSession, now: datetime) -> dict[str, Any]:
    status = sess.status
    if status in ("pending", "confirming") and sess.expires_at <= now:
        status = "expired"
    out = SESSION_STATUS_OUT.get(status, status)
    return {"session_id": sess.id, "document_id": sess.document_id, "status": out,
            "label": SESSION_STATUS_VI.get(out, out), "detail": (sess.state or {}).get("detail"),
            "channel": (sess.state or {}).get("channel", "token"), "expires_at": sess.expires_at,
            "result_version_id": sess.result_version_id}


def start_remote_signing(db: Session, store: BlobStore, container: Container, *, caller: Caller,
                         profile: SigningProfile | None, document_ids: list[str], level: str | None,
                         background: BackgroundTasks, batch: batches.SigningBatch | None = None
                         ) -> list[dict[str, Any]]:
    """Prepare the signatures of ``document_ids`` with the official's remote (CSC) certificate,
    mark them "waiting for confirmation" and hand them to the worker once the request commits.
    One document: returns its session; a batch: the prepared sessions (failures are in the batch)."""
    user = caller.person
    from ioffice.kernel.errors import PermissionDenied
    from signing.remote.csc import run

    if profile is None or profile.method != "remote":
        raise PermissionDenied("Bạn chưa được cấu hình ký số từ xa; hãy liên hệ quản trị viên.")
    provider, credential_id = profile.csc_provider, profile.csc_credential_id
    if not provider or not credential_id:  # set_method requires both for the remote method
        raise InvalidInput("Ký số từ xa cần nhà cung cấp (csc_provider) và mã chứng thư (csc_credential_id).")
    client = csc_client(container, provider)
    cred = run(lambda: client.credential(credential_id))
    a = adapter(container)
    if batch is None:
        sess, prep = signatures.prepare_external(db, store, a, caller=caller, document_id=document_ids[0],
                                                 certificate_pem=cred.certificate_pem, chain_pem=cred.chain_pem,
                                                 level=level, default_level=a.default_level())
        sess.status = "confirming"
        sess.state = {**sess.state, "channel": "remote"}
        db.flush()
        prepared: list[dict[str, Any]] = [{"document_id": document_ids[0], "session_id": sess.id,
                                           "data_to_sign": prep.data_to_sign, "expires_at": prep.expires_at}]
    else:
        prepared = batches.prepare_external(db, store, a, caller=caller, batch=batch,
                                            certificate_pem=cred.certificate_pem, chain_pem=cred.chain_pem,
                                            level=level, default_level=a.default_level(), confirming=True)
    if prepared:
        background.add_task(submit_remote, container, user_id=user.id, provider=provider,
                            credential_id=credential_id, session_ids=[p["session_id"] for p in prepared],
                            batch_id=batch.id if batch is not None else None)
    return [{"session_id": p["session_id"], "data_to_sign": base64.b64encode(p["data_to_sign"]).decode(),
             "hash_to_sign": base64.b64encode(hashlib.sha256(p["data_to_sign"]).digest()).decode(),
             "status": "waiting_for_confirmation", "digest_algorithm": "sha256", "signature_mechanism": "sha256_rsa",
             "expires_at": p.get("expires_at") or utc_in(container.settings.remote_confirm_timeout_seconds)}
            for p in prepared]


def utc_in(seconds: float) -> datetime:
    from datetime import timedelta

    from ioffice.kernel.db import utcnow

    return utcnow() + timedelta(seconds=seconds)
