"""Signing methods per official (administrator), token/remote certificates, the state of a
signing in progress (waiting for the token or for the phone), and the minimal browser page that
signs with the USB token through the official's signing plugin."""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ioffice import documents, signatures, signing_methods
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import InvalidInput, NotFound

from ..channels import CertificateChecker, session_view
from ..deps import CallerDep, ContainerDep, CurrentUser, SessionDep, problem_responses, require_roles

router = APIRouter(tags=["signing channels"])
STATIC = Path(__file__).resolve().parents[1] / "static" / "signing"
PLUGIN_SCRIPTS = ("plugin.js", "vgca.js", "vnpt.js", "viettel.js", "sign-page.js")


class SigningMethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["server", "token", "remote"]
    csc_provider: str | None = Field(default=None, max_length=64, description="remote: a configured CSC provider")
    csc_credential_id: str | None = Field(default=None, max_length=255, description="remote: the CSC credential id")


class SigningMethodOut(BaseModel):
    user_id: str
    method: str
    csc_provider: str | None = None
    csc_credential_id: str | None = None
    certificate_subject: str | None = None
    certificate_sha256: str | None = None
    certificate_not_after: datetime | None = None


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate_pem: str = Field(max_length=20000, description="the official's signing certificate (PEM)")


def _out(prof: signing_methods.SigningProfile) -> SigningMethodOut:
    return SigningMethodOut(user_id=prof.user_id, method=prof.method, csc_provider=prof.csc_provider,
                            csc_credential_id=prof.csc_credential_id, certificate_subject=prof.certificate_subject,
                            certificate_sha256=prof.certificate_sha256,
                            certificate_not_after=prof.certificate_not_after)


@router.put("/api/v1/users/{user_id}/signing-method", response_model=SigningMethodOut,
            responses=problem_responses(401, 403, 404, 422), dependencies=[require_roles("admin")])
def put_signing_method(user_id: str, body: SigningMethodIn, db: SessionDep, caller: CallerDep,
                       container: ContainerDep) -> SigningMethodOut:
    """Set how the official signs: ``server`` (a key the server holds), ``token`` (USB token through
    the plugin on their PC) or ``remote`` (a CSC service; needs ``csc_provider`` and
    ``csc_credential_id``)."""
    prof = signing_methods.set_method(db, caller=caller, user_id=user_id, method=body.method,
                                      csc_provider=body.csc_provider, csc_credential_id=body.csc_credential_id,
                                      known_providers=tuple(container.settings.csc_providers or {}))
    return _out(prof)


@router.put("/api/v1/users/{user_id}/certificate", response_model=SigningMethodOut,
            responses=problem_responses(401, 403, 404, 422, 503), dependencies=[require_roles("admin")])
def put_certificate(user_id: str, body: CertificateIn, db: SessionDep, caller: CallerDep,
                    container: ContainerDep) -> SigningMethodOut:
    """Register a token or remote official's certificate: it must chain to a trust root, be valid
    now, not revoked, allow signing and name the official."""
    prof = signing_methods.register_certificate(db, CertificateChecker(container), caller=caller, user_id=user_id,
                                                certificate_pem=body.certificate_pem)
    return _out(prof)


@router.put("/api/v1/users/{user_id}/signing-key", response_model=SigningMethodOut,
            responses=problem_responses(401, 403, 404, 422, 503), dependencies=[require_roles("admin")])
def put_signing_key(user_id: str, db: SessionDep, caller: CallerDep, container: ContainerDep,
                    file: Annotated[UploadFile | None, File(description="PKCS#12 (.p12/.pfx) with the official's "
                                                                        "key and certificate")] = None,
                    passphrase: Annotated[str, Form(max_length=1024, description="the PKCS#12 passphrase")] = "",
                    pkcs11_uri: Annotated[str | None, Form(max_length=2048, description="or: a pkcs11: URI of "
                                                                                       "a key in the HSM")] = None,
                    ) -> SigningMethodOut:
    """Give an official a key the server holds, effective at once (no restart): upload a PKCS#12
    with its passphrase, or name a ``pkcs11:`` key. Its certificate must chain to a trust root, be
    valid, not revoked, allow signing and name the official; the method becomes ``server``."""
    from ..keystore import MAX_PKCS12_BYTES, prepare_pkcs11, prepare_pkcs12

    if (file is None) == (not pkcs11_uri):
        raise InvalidInput("Gửi đúng một trong hai: tệp khóa PKCS#12 (file) hoặc địa chỉ khóa PKCS#11 (pkcs11_uri).")
    if file is not None:
        prepared = prepare_pkcs12(container, file.file.read(MAX_PKCS12_BYTES + 1), passphrase)
    else:
        prepared = prepare_pkcs11(container, pkcs11_uri or "")
    prof = signing_methods.set_server_key(db, CertificateChecker(container), caller=caller, user_id=user_id,
                                          certificate_pem=prepared.certificate_pem, store_key=prepared.store,
                                          kind=prepared.kind)
    return _out(prof)


@router.get("/api/v1/users/{user_id}/signing-method", response_model=SigningMethodOut,
            responses=problem_responses(401, 403, 404), dependencies=[require_roles("admin")])
def get_signing_method(user_id: str, db: SessionDep, caller: CallerDep) -> SigningMethodOut:
    from ioffice.accounts.models import User

    user = db.get(User, user_id)
    if user is None or user.org_id != caller.org_id:
        raise NotFound("Không tìm thấy người dùng.")
    prof = signing_methods.profile_of(db, user)
    if prof is None:
        return SigningMethodOut(user_id=user.id, method=signing_methods.effective_method(db, user))
    return _out(prof)


class SigningStateOut(BaseModel):
    session_id: str
    document_id: str
    status: str = Field(description="awaiting_signature | waiting_for_confirmation | completed | refused | "
                                    "expired | failed")
    label: str = Field(description="the status in Vietnamese, for people")
    detail: str | None = None
    channel: str
    expires_at: datetime
    result_version_id: str | None = None


@router.get("/api/v1/signing-sessions/{session_id}", response_model=SigningStateOut,
            responses=problem_responses(401, 404))
def get_signing_session(session_id: str, db: SessionDep, user: CurrentUser) -> SigningStateOut:
    sess = db.get(signatures.SigningSession, session_id)
    if sess is None or sess.org_id != user.org_id:
        raise NotFound("Không tìm thấy phiên ký.")
    return SigningStateOut(**session_view(sess, utcnow()))


@router.get("/api/v1/documents/{document_id}/signing-state", response_model=SigningStateOut | None,
            responses=problem_responses(401, 404))
def get_document_signing_state(document_id: str, db: SessionDep, user: CurrentUser) -> SigningStateOut | None:
    """The latest signing started on the document (e.g. "waiting for confirmation" while the
    official confirms a remote signature on their phone); null when none was started."""
    doc = documents.get_document(db, org_id=user.org_id, document_id=document_id)
    sess = db.scalars(select(signatures.SigningSession).where(signatures.SigningSession.document_id == doc.id)
                      .order_by(signatures.SigningSession.created_at.desc()).limit(1)).first()
    return SigningStateOut(**session_view(sess, utcnow())) if sess else None


# ------------------------------------------------------------------------------- browser page

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self' wss://127.0.0.1:* wss://localhost:* http://127.0.0.1:* http://localhost:*; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@router.get("/sign/{document_id}", response_class=HTMLResponse, include_in_schema=False)
def sign_page(document_id: str) -> HTMLResponse:
    """A minimal page that signs the document with the USB token through the plugin on the
    official's PC (VGCA, VNPT-CA or Viettel-CA). No inline script: it works under a strict CSP.
    The page authenticates with the session cookie of the web pages or, for API users, with the
    bearer token kept in ``sessionStorage["ioffice.token"]``."""
    doc = html.escape(document_id, quote=True)
    scripts = "\n".join(f'<script type="module" src="/static/signing/{n}"></script>' for n in ("sign-page.js",))
    body = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Ký số văn bản bằng USB token</title>
<link rel="stylesheet" href="/static/signing/sign.css"></head>
<body><main id="sign" data-document-id="{doc}">
<h1>Ký số văn bản bằng USB token</h1>
<label for="plugin">Phần mềm ký trên máy tính</label>
<select id="plugin" name="plugin">
<option value="vgca">Ban Cơ yếu Chính phủ (VGCA Sign Service)</option>
<option value="vnpt">VNPT-CA Plugin</option>
<option value="viettel">Viettel-CA SignPlugin</option>
</select>
<button id="sign-button" type="button">Ký số</button>
<p id="status" role="status" aria-live="polite">Cắm USB token, chọn phần mềm ký rồi bấm “Ký số”.</p>
</main>
{scripts}
</body></html>"""
    return HTMLResponse(body, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/static/signing/{name}", include_in_schema=False)
def signing_asset(name: str) -> Response:
    allowed = {*PLUGIN_SCRIPTS, "sign.css"}
    if name not in allowed:
        raise NotFound("Không tìm thấy tệp.")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(STATIC / name, media_type=media, headers={"X-Content-Type-Options": "nosniff"})
