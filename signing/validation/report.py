"""The validation report: dataclasses, verdicts and their Vietnamese summaries (the contract's JSON)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

VERDICTS = ("valid", "valid_with_changes", "modified", "invalid", "no_signature", "unreadable")


SUMMARIES = {
    "valid": "Tài liệu có chữ ký số hợp lệ, không bị thay đổi sau khi ký.",
    "valid_with_changes": (
        "Tài liệu có chữ ký số hợp lệ; sau khi ký chỉ có những thay đổi được người ký cho phép "
        "(điền biểu mẫu hoặc thêm ghi chú)."
    ),
    "modified": (
        "Tài liệu đã bị sửa đổi sau khi ký: nội dung hiển thị hiện nay có thể khác với nội dung "
        "đã được ký. Không nên tin cậy tài liệu này."
    ),
    "invalid": (
        "Chữ ký số trên tài liệu không hợp lệ: tài liệu đã bị thay đổi hoặc chữ ký bị làm giả, "
        "hỏng. Không nên tin cậy tài liệu này."
    ),
    "no_signature": "Tài liệu PDF này không có chữ ký số.",
    "unreadable": "Không đọc được tệp: tệp không phải là tài liệu PDF hoặc đã bị hỏng.",
}


VERDICT_LABELS = {
    "valid": "Hợp lệ",
    "valid_with_changes": "Hợp lệ, có thay đổi được phép sau khi ký",
    "modified": "Đã bị sửa đổi sau khi ký",
    "invalid": "Chữ ký không hợp lệ",
    "no_signature": "Không có chữ ký số",
    "unreadable": "Không đọc được tệp",
}


@dataclass
class SignatureReport:
    """One signature (or document timestamp) of the document, as the contract describes it."""

    field: str
    signer: str | None = None
    signing_time: str | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revocation: str = "unknown"  # good | revoked | unknown
    coverage: str = "partial"  # entire_file | entire_revision | partial
    changes_after: str = "none"  # none | permitted | disallowed
    level: str | None = None  # B-B | B-T | B-LT | B-LTA | None
    timestamp: str | None = None
    # extras (not in the contract's minimum, stable nonetheless)
    kind: str = "signature"  # signature | document_timestamp
    subfilter: str | None = None
    certified: bool = False
    docmdp: int | None = None
    revision: int | None = None
    issuer: str | None = None
    # ``dataclasses.field``: the attribute ``field`` above shadows the function for the type checker
    problems: list[str] = dataclasses.field(default_factory=list)
    changes: list[str] = dataclasses.field(default_factory=list)
    # for people: capacity, Vietnam time, the root the chain reaches
    role: str | None = None  # personal | seal | number_stamp | date_stamp | copy_* | document_timestamp
    role_label: str | None = None
    signing_time_vn: str | None = None
    timestamp_vn: str | None = None
    trust_anchor: str | None = None
    # SHA-256 of the revision this signature covers (the file up to the end of its byte range):
    # finds the issued file in the registers even when later revisions were appended
    signed_sha256: str | None = None

    def __post_init__(self) -> None:
        # names read from the PDF are pyHanko string objects that hold a reference to the whole
        # parsed document: keep plain copies, so that neither pickling the report (to the
        # parent process) nor ``to_dict`` drags the document along
        for key in ("field", "signer", "issuer", "subfilter"):
            value = getattr(self, key)
            if isinstance(value, str) and type(value) is not str:
                setattr(self, key, str.__str__(value))

    def __setattr__(self, key: str, value: Any) -> None:
        if isinstance(value, str) and type(value) is not str:
            value = str.__str__(value)
        object.__setattr__(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["problems"] = [str.__str__(p) for p in self.problems]
        out["changes"] = [str.__str__(c) for c in self.changes]
        return out


@dataclass
class ValidationReport:
    """The whole report; ``to_dict()`` gives the contract's JSON object (``copy`` left None)."""

    verdict: str
    trusted: bool = False
    signatures: list[SignatureReport] = field(default_factory=list)
    copy: dict[str, Any] | None = None
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    revisions: int | None = None
    sha256: str | None = None
    integrity: str = ""
    trust: str = ""
    change_regions: list[dict[str, Any]] = field(default_factory=list)
    # SHA-256 of the file up to each earlier revision's end (finds an issued file that was extended)
    revision_sha256s: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = SUMMARIES.get(self.verdict, "")

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, self.verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "trusted": self.trusted,
            "signatures": [s.to_dict() for s in self.signatures],
            "copy": self.copy,
            "summary": self.summary,
            "verdict_label": self.verdict_label,
            "problems": list(self.problems),
            "changes": list(self.changes),
            "revisions": self.revisions,
            "sha256": self.sha256,
            "integrity": self.integrity,
            "trust": self.trust,
            "change_regions": [dict(r) for r in self.change_regions],
            "revision_sha256s": list(self.revision_sha256s),
        }


def _unreadable(problem: str, **kw: Any) -> ValidationReport:
    return ValidationReport(verdict="unreadable", trusted=False, problems=[problem], **kw)
