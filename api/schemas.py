"""Response and request models of the HTTP API (field names in English)."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    abbreviation: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    full_name: str
    position: str | None
    roles: list[str]
    unit_id: str | None
    is_active: bool
    email: str | None = None


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    abbreviation: str
    organ_code: str | None
    parent_name: str | None
    place: str | None


class MeOut(UserOut):
    organisation: OrganisationOut
    signing_method: str | None = Field(default=None, description="server | token | remote: how the caller signs")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    full_name: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=8, max_length=256)
    roles: list[str] = Field(min_length=1)
    unit_id: str | None = None
    position: str | None = None
    email: str | None = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    is_active: bool | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=255)
    position: str | None = Field(default=None, max_length=128, description="chức vụ, e.g. Phó Chủ tịch")
    unit_id: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=255)


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    seq: int
    sha256: str
    size: int
    media_type: str
    filename: str
    kind: str
    is_final: bool
    page_count: int | None
    created_by: str | None
    created_at: datetime


class RecallOut(BaseModel):
    reason: str
    at: datetime
    by: str | None = None
    issuer: str | None = None
    number_symbol: str | None = None


class SignatureCheckOut(BaseModel):
    """The check at the door of an uploaded incoming PDF's signatures."""

    verdict: str = Field(description="valid | valid_with_changes | modified | invalid | no_signature | unreadable")
    trusted: bool = Field(description="every signature chains to a configured trust root")
    checked_at: datetime
    summary: str = Field(description="one Vietnamese sentence for people")


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    direction: str
    doc_type: str
    doc_type_name: str
    status: str
    summary: str
    number: int | None
    number_symbol: str | None
    issuing_body: str | None
    issuing_body_code: str | None
    parent_body: str | None
    place: str | None
    issued_date: date | None
    signer_competence: str | None
    signer_position: str | None
    signer_name: str | None
    recipients: list[str]
    urgency: str | None
    secrecy: str | None
    due_date: date | None
    page_count: int | None
    current_version_id: str | None
    arrival_number: int | None = Field(default=None, description="số đến (incoming, once registered)")
    arrival_date: date | None = None
    sha256: str | None = None
    size: int | None = None
    filename: str | None = None
    recall: RecallOut | None = Field(default=None, description="set when the issuer recalled the document")
    replaces_id: str | None = Field(default=None, description="the document this one replaces")
    replaced_by_id: str | None = Field(default=None, description="the document that replaces this one")
    signature_check: SignatureCheckOut | None = Field(
        default=None, description="incoming: the validation of the uploaded PDF's signatures (at upload)")
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class DocumentDetail(DocumentOut):
    versions: list[VersionOut] = []


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class HealthOut(BaseModel):
    status: str
    database: str
    storage: str
