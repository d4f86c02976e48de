"""Signing in the workflow: server-side signing (the caller's key or the agency seal), external
signing sessions for USB tokens, and the seal applied at issue time."""
from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, Header, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ioffice import audit, signatures, signing_methods
from ioffice.documents import attachments
from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.vocab import PadesLevel

from ..deps import (
    CallerDep,
    ContainerDep,
    SessionDep,
    StoreDep,
    own_transactions,
    problem_responses,
    require_roles,
    writes,
)
from ..download import content_disposition
from ..schemas import VersionOut
from ..signing_adapter import adapter, b64

router = APIRouter(prefix="/api/v1", tags=["signing"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["personal", "seal", "attachment", "copy"] | None = Field(
        default=None, description="personal (leader's own key), seal (agency key, clerk), attachment or copy "
                                  "(agency key, text mark at the top right); default: personal for leaders, "
                                  "seal for clerks")
    level: PadesLevel | None = Field(default=None, description="PAdES baseline level")
    mode: Literal["server", "external", "remote"] = Field(
        default="server", description="external: the key is on the official's USB token; returns what the token "
        "must sign. remote: the official's CSC service signs after they confirm on their phone (202, then "
        "GET /signing-sessions/{id})")
    certificate_pem: str | None = Field(default=None, description="external mode: the token's certificate "
                                        "(default: the one registered for the official)")
    chain_pem: list[str] = Field(default_factory=list)
    resign: bool = Field(default=False, description="sign again a version that already carries your own "
                                                     "personal signature (refused without it: 409)")
    authority: str | None = Field(default=None, max_length=200, description="authority lines above the position "
                                  "(each starting TM., Q., KT., TL. or TUQ., e.g. \"TM. ỦY BAN NHÂN DÂN\"), "
                                  "instead of those chosen from role, delegation and agency; \"\": none")


class SignedOut(BaseModel):
    id: str = Field(description="the new version's id")
    sha256: str = Field(description="SHA-256 of the signed PDF")
    document_id: str
    status: str
    version: VersionOut
    replayed: bool = False


class ExternalSessionOut(BaseModel):
    session_id: str
    data_to_sign: str = Field(description="base64 DER of the CMS signed attributes the token signs")
    hash_to_sign: str = Field(description="base64 SHA-256 of data_to_sign: what a signing plugin signs in hash mode")
    status: str = Field(default="awaiting_signature", description="awaiting_signature (token) or "
                        "waiting_for_confirmation (remote)")
    digest_algorithm: str
    signature_mechanism: str
    expires_at: datetime


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature: str = Field(description="base64 signature value produced by the token")
    certificate: str | None = Field(default=None, description="base64 DER certificate the plugin signed with; "
                                    "must be the one the session was prepared for")


@router.post("/documents/{document_id}/sign", status_code=201, response_model=SignedOut | ExternalSessionOut,
             responses=problem_responses(401, 403, 404, 409, 422, 503))
@own_transactions
def sign_document(document_id: str, body: SignIn, response: Response, background: BackgroundTasks,
                  db: SessionDep, store: StoreDep,
                  caller: CallerDep, container: ContainerDep,
                  idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
                  ) -> SignedOut | ExternalSessionOut:
    """Sign the current version. A personal signature binds the exact approved version; the
    result is a new, final version. Repeating a request with the same ``Idempotency-Key``
    returns the first result without signing again."""
    user = caller.person
    kind = body.kind or ("personal" if user.has_role("leader", "unit_head") else "seal")
    a = adapter(container)
    profile = None
    if kind == "personal" and user.has_role("leader", "unit_head"):  # others get the role's 403 below
        profile = signing_methods.require_mode(db, user=user, mode=body.mode)
    if body.mode == "remote":
        if kind != "personal":
            raise InvalidInput("Ký số từ xa chỉ áp dụng cho chữ ký cá nhân.")
        from ..channels import start_remote_signing

        out = start_remote_signing(db, store, container, caller=caller, profile=profile,
                                   document_ids=[document_id], level=body.level, background=background)[0]
        response.status_code = 202
        return ExternalSessionOut(**out)
    if body.mode == "external":
        if kind != "personal":
            raise InvalidInput("Ký bằng thiết bị USB token chỉ áp dụng cho chữ ký cá nhân.")
        registered = profile.certificate_pem if profile else None
        certificate_pem = body.certificate_pem or registered
        if not certificate_pem:
            raise InvalidInput("Thiếu chứng thư số (certificate_pem) của USB token; hãy nhờ quản trị viên đăng ký "
                               "chứng thư số của bạn.")
        if registered and body.certificate_pem and not _same_certificate(body.certificate_pem, registered):
            raise InvalidInput("Chứng thư số gửi lên khác với chứng thư số đã đăng ký cho bạn.")
        sess, prepared = signatures.prepare_external(
            db, store, a, caller=caller, document_id=document_id, certificate_pem=certificate_pem,
            chain_pem=body.chain_pem, level=body.level, default_level=a.default_level(), sessions=container.sessions)
        return ExternalSessionOut(session_id=sess.id, data_to_sign=b64(prepared.data_to_sign),
                                  hash_to_sign=b64(hashlib.sha256(prepared.data_to_sign).digest()),
                                  digest_algorithm=prepared.digest_algorithm,
                                  signature_mechanism=prepared.signature_mechanism, expires_at=prepared.expires_at)
    version, replayed = signatures.sign_document(
        db, store, a, caller=caller, document_id=document_id, kind=kind, idempotency_key=idempotency_key,
        level=body.level, default_level=a.default_level(), max_size=container.settings.max_upload_bytes,
        resign=body.resign, sessions=container.sessions,
        authority_override=body.authority if "authority" in body.model_fields_set else None)
    if replayed:
        response.status_code = 200
    doc = version.document
    return SignedOut(id=version.id, sha256=version.sha256, document_id=doc.id, status=doc.status,
                     version=VersionOut.model_validate(version), replayed=replayed)


@router.post("/signing-sessions/{session_id}/complete", response_model=SignedOut,
             responses=problem_responses(401, 404, 409, 422, 503))
@own_transactions
def complete_session(session_id: str, body: CompleteIn, db: SessionDep, store: StoreDep, caller: CallerDep,
                     container: ContainerDep) -> SignedOut:
    """Embed the token's signature; the document must not have changed since prepare."""
    try:
        signature = base64.b64decode(body.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("Chữ ký gửi lên không phải base64 hợp lệ.") from exc
    if body.certificate:
        _check_plugin_certificate(db, session_id, body.certificate)
    version = signatures.complete_external(db, store, adapter(container), caller=caller,
                                           session_id=session_id, signature=signature,
                                           sessions=container.sessions)
    doc = version.document
    return SignedOut(id=version.id, sha256=version.sha256, document_id=doc.id, status=doc.status,
                     version=VersionOut.model_validate(version))


def _same_certificate(a: str, b: str) -> bool:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(a.encode()) == x509.load_pem_x509_certificate(b.encode())
    except ValueError as exc:
        raise InvalidInput("certificate_pem không phải chứng thư số PEM hợp lệ.") from exc


def _check_plugin_certificate(db: Session, session_id: str, certificate_b64: str) -> None:
    """The plugin reports the certificate it signed with: it must be the session's."""
    sess = db.get(signatures.SigningSession, session_id)
    if sess is None:
        return  # complete_external reports the unknown session
    try:
        der = base64.b64decode(certificate_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("Chứng thư số do phần mềm ký trả về không phải base64 hợp lệ.") from exc
    expected = ((sess.state or {}).get("engine") or {}).get("cert_sha256")
    if expected and hashlib.sha256(der).hexdigest() != expected:
        raise InvalidInput("USB token đã ký bằng một chứng thư số khác với chứng thư đã dùng để chuẩn bị ký; "
                           "văn bản chưa được ký.")


# -------------------------------------------------------------------------------- attachments

class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    seq: int
    title: str
    filename: str
    sha256: str
    size: int
    page_count: int | None
    signed_at: datetime | None
    created_at: datetime


@router.post("/documents/{document_id}/attachments", status_code=201, response_model=AttachmentOut,
             responses=problem_responses(401, 403, 404, 409, 413, 422, 503),
             dependencies=[require_roles("clerk", "specialist", "unit_head", "leader")])
def add_attachment(document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                   file: Annotated[UploadFile, File(description="the attachment as a PDF")],
                   title: Annotated[str | None, Form(max_length=255)] = None) -> AttachmentOut:
    """Add an attachment sent as a separate file (phụ lục). It is signed by the clerk with the
    agency key and the number/symbol mark when the document is issued."""
    att = attachments.add_attachment(db, store, caller=caller, document_id=document_id, file=file.file,
                                     filename=file.filename, title=title,
                                     max_size=container.settings.max_upload_bytes)
    return AttachmentOut.model_validate(att)


@router.get("/documents/{document_id}/attachments", response_model=list[AttachmentOut],
            responses=problem_responses(401, 403, 404),
            dependencies=[require_roles("clerk", "specialist", "unit_head", "leader")])
def list_attachments(document_id: str, db: SessionDep, caller: CallerDep) -> list[AttachmentOut]:
    return [AttachmentOut.model_validate(a) for a in
            attachments.list_attachments(db, org_id=caller.person.org_id, document_id=document_id)]


@router.get("/documents/{document_id}/attachments/{attachment_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404, 503)},
            dependencies=[require_roles("clerk", "specialist", "unit_head", "leader")])
@writes
def attachment_content(document_id: str, attachment_id: str, db: SessionDep, store: StoreDep,
                       caller: CallerDep) -> StreamingResponse:
    from .documents import stream_file

    att = attachments.get_attachment(
        db, org_id=caller.person.org_id, document_id=document_id, attachment_id=attachment_id
    )
    f = store.open(att.sha256)
    audit.record(db, caller=caller, action="document.attachment.download", object_type="document",
                 object_id=document_id, details={"attachment": att.id, "sha256": att.sha256})
    return StreamingResponse(stream_file(f), media_type="application/pdf",
                             headers={"Content-Disposition": content_disposition(att.filename),
                                      "Content-Length": str(att.size), "X-Content-SHA256": att.sha256})


@router.post("/documents/{document_id}/attachments/sign", response_model=list[AttachmentOut],
             responses=problem_responses(401, 403, 404, 409, 422, 503), dependencies=[require_roles("clerk")])
def sign_attachments(document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep,
                     container: ContainerDep) -> list[AttachmentOut]:
    """Sign the issued document's unsigned attachments (issuing does this too)."""
    a = adapter(container)
    done = attachments.sign_attachments(db, store, a, caller=caller, document_id=document_id,
                                        level=a.default_level())
    return [AttachmentOut.model_validate(x) for x in done]
