"""Implements the core's signing ports (``ioffice.signatures``) with pyHanko: chooses the Decree 30
appearance for the kind of signature, timestamps and embeds revocation data per the PAdES level.

Everything outside pyHanko's reach comes in as constructor arguments from the composition root
(``api``): how a key reference becomes a pyHanko ``Signer`` (``certs`` opens PKCS#12 files and
PKCS#11 tokens), the signer-certificate check, the timestamper and the validation context (trust
roots, revocation sources). This package reads no settings and imports no other adapter.
"""
from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from ioffice.kernel.errors import InvalidInput
from ioffice.signatures import PreparedExternal, SignSpec
from signing.levels import is_level

DEFAULT_NUMBER_BOX = (57.0, 716.0, 270.0, 740.0)
DEFAULT_DATE_BOX = (285.0, 716.0, 560.0, 740.0)


class PyHankoSigning:
    """PdfSigningPort + ExternalSigningPort for one app.

    ``resolve_key(ref)`` turns a spec's ``key_ref`` (None: the agency's seal) into a canonical key
    reference, raising :class:`InvalidInput` when there is none; ``open_key(ref)`` opens it as a
    pyHanko ``Signer`` (called once per reference, the prepared signer is kept);
    ``check_signer(prepared)`` refuses a certificate that may not sign now (a passed check is
    remembered for ``check_ttl_seconds``); ``timestamper()`` gives a pyHanko ``TimeStamper`` or None;
    ``validation_context()`` a ``ValidationContext`` or a factory of them (for B-LT/B-LTA);
    ``tsa_url`` is handed to external (token) signing sessions; ``default_level`` is the PAdES level
    used when neither the request nor the agency names one.
    """

    CHECK_TTL_SECONDS = 300.0

    def __init__(
        self,
        *,
        resolve_key: Callable[[str | None], str],
        open_key: Callable[[str], Any],
        check_signer: Callable[[Any], None] | None = None,
        timestamper: Callable[[], Any] | None = None,
        validation_context: Callable[[], Any] | None = None,
        tsa_url: str | None = None,
        default_level: str = "B-B",
        check_ttl_seconds: float = CHECK_TTL_SECONDS,
        ca_chain: Callable[[], list[str]] | None = None,
    ) -> None:
        self._resolve_key = resolve_key
        self._open_key = open_key
        self._check_signer = check_signer
        self._make_timestamper = timestamper or (lambda: None)
        self._make_validation_context = validation_context or (lambda: None)
        self.tsa_url = tsa_url
        self._default_level = default_level
        self._check_ttl = check_ttl_seconds
        self._ca_chain = ca_chain or (lambda: [])  # PEMs added when a plugin returns the leaf only
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._signers: dict[str, Any] = {}
        self._checked: dict[str, float] = {}  # key ref -> monotonic time of the last passed check

    # -- keys -------------------------------------------------------------------------------
    def default_level(self) -> str:
        return self._default_level

    def _signer(self, key_ref: str | None) -> Any:
        from signing.engine import PreparedSigner

        ref = self._resolve_key(key_ref)
        with self._lock:
            signer = self._signers.get(ref)
            if signer is None:
                signer = self._signers[ref] = PreparedSigner(self._open_key(ref))
        self._check(ref, signer)
        return signer

    def _check(self, key_ref: str, signer: Any) -> None:
        """Before signing: the certificate is valid now, not revoked, allows signing and chains to a
        trust root (refusal: 422 naming the reason). A passed check is remembered for a while."""
        if self._check_signer is None:
            return
        # one check at a time: issues now stamp in parallel (outside the counter's lock), and the
        # first uses of a key must not run the revocation check concurrently
        with self._check_lock:
            last = self._checked.get(key_ref)
            if last is not None and time.monotonic() - last < self._check_ttl:
                return
            self._check_signer(signer)
            self._checked[key_ref] = time.monotonic()

    def _timestamper(self) -> Any:
        return self._make_timestamper()

    def _validation_context(self) -> Any:
        return self._make_validation_context()

    # -- appearances ------------------------------------------------------------------------
    def _org_settings(self, spec: SignSpec) -> dict[str, Any]:
        return spec.extra.get("org_settings") or {}

    def _appearance(self, source: BinaryIO, spec: SignSpec, pages: Any = None) -> Any:
        """The appearance of ``spec`` on this PDF: personal signatures and seals go where the draft
        left room (see :mod:`signing.appearance.in_draft`), never over its text."""
        from signing import appearance as ap
        from signing.appearance import in_draft
        from signing.appearance.draft_text import read_pages

        org = self._org_settings(spec)
        personal_box = tuple(org.get("personal_box") or ap.DEFAULT_PERSONAL_BOX)
        if spec.kind in ("personal", "seal"):
            if pages is None:  # the draft's text (stamps added as signature fields do not change it)
                pos = source.tell()
                pages = read_pages(source.read())
                source.seek(pos)
            if spec.kind == "personal":
                placement = in_draft.personal_in_draft(
                    pages, position=spec.position or "Lãnh đạo", full_name=spec.full_name, authority=spec.authority,
                    signature_png=spec.signature_image, fallback_box=personal_box)
                in_draft.seal_room_ok(pages, placement)
                return placement.appearance
            signer = spec.extra.get("signer") or {}
            return in_draft.seal_in_draft(pages, signer_name=signer.get("name"), signer_position=signer.get("position"),
                                          signer_authority=None, seal_png=spec.seal_image,
                                          agency_name=spec.agency_name, fallback_box=personal_box)
        width, height = _first_page_size(source)
        if spec.kind == "attachment":
            return ap.attachment_mark(number_symbol=spec.number_symbol or "", page_width=width, page_height=height)
        if spec.kind == "copy":
            return ap.copy_mark(copy_form=spec.copy_form or "SAO Y", agency_name=spec.agency_name,
                                page_width=width, page_height=height)
        return None

    def _issue_marks(self, pdf: bytes, spec: SignSpec, number_text: str, date_text: str,
                     pages: Any = None) -> list[tuple[str, Any]]:
        """(field name, appearance) of the number and the date stamped at issue: in the draft's blanks,
        else in the agency's configured boxes."""
        from signing.appearance import in_draft
        from signing.appearance.draft_text import read_pages

        org = self._org_settings(spec)
        page = int(org.get("number_page", 0))
        issue = spec.extra.get("issue") or {}
        pages = pages if pages is not None else read_pages(pdf)
        number_box = tuple(org.get("number_box") or DEFAULT_NUMBER_BOX)
        date_box = tuple(org.get("date_box") or DEFAULT_DATE_BOX)
        if not issue:  # a caller that gives only the texts: the configured boxes
            from signing import appearance as ap

            return [("SoKyHieu", ap.number_date_mark(text=number_text, box=number_box, page=page)),
                    ("NgayBanHanh", ap.number_date_mark(text=date_text, box=date_box, page=page, italic=True))]
        return [
            ("SoKyHieu", in_draft.number_in_draft(pages, number=issue["number"], symbol=issue["symbol"], page=page,
                                                  fallback_box=number_box)),
            ("NgayBanHanh", in_draft.date_in_draft(pages, day=issue["day"], month=issue["month"], year=issue["year"],
                                                   date_line=date_text, page=page,
                                                   fallback_box=date_box)),
        ]

    # -- previews -----------------------------------------------------------------------------
    def preview(self, pdf: bytes, spec: SignSpec, *, number_text: str | None = None,
                date_text: str | None = None) -> bytes:
        """The PDF as signing with ``spec`` (or, with ``number_text``/``date_text``, issuing) would
        draw it — the same appearances at the same places, drawn into the pages — without any key,
        signature or timestamp. Raises what signing would raise (e.g. Conflict when there is no room)."""
        from signing.appearance.draft_text import read_pages
        from signing.preview import stamp_into

        pages = read_pages(pdf)
        apps = []
        if number_text is not None and date_text is not None:
            apps = [a for _, a in self._issue_marks(pdf, spec, number_text, date_text, pages)]
        main = self._appearance(io.BytesIO(pdf), spec, pages)
        if main is not None:
            apps.append(main)
        return stamp_into(pdf, apps)

    # -- PdfSigningPort ---------------------------------------------------------------------
    def sign(self, source: BinaryIO, spec: SignSpec, output: BinaryIO, pages: Any = None) -> None:
        from signing.engine import sign_pdf

        signer = self._signer(spec.key_ref)
        appearance = self._appearance(source, spec, pages)
        source.seek(0)
        level = spec.level
        if not is_level(level):
            raise InvalidInput(f"Mức chữ ký không hợp lệ: {level}")
        sign_pdf(source, signer=signer, level=level, appearance=appearance, field_name=spec.field_name,
                 timestamper=self._timestamper() if level != "B-B" else None,
                 validation_context=self._validation_context() if level in ("B-LT", "B-LTA") else None,
                 output=output, reason=spec.reason, location=spec.location)

    def seal_issued(self, pdf: bytes, spec: SignSpec, *, number_text: str, date_text: str) -> bytes:
        """At issue: stamp the number and the date as text-only agency signatures (earlier
        signatures stay valid) — in the draft's blanks when ``spec.extra["issue"]`` gives number,
        symbol, day, month and year — then add the agency's seal signature."""
        from signing.appearance.draft_text import read_pages
        from signing.engine import sign_pdf

        signer = self._signer(None)
        pages = read_pages(pdf)
        data = pdf
        for name, mark in self._issue_marks(pdf, spec, number_text, date_text, pages):
            stamped = sign_pdf(io.BytesIO(data), signer=signer, level="B-B", appearance=mark,
                               field_name=_unique_field(data, name), reason="Cấp số, ngày văn bản")
            assert stamped is not None  # no output given: sign_pdf returns the bytes
            data = stamped
        out = io.BytesIO()
        self.sign(io.BytesIO(data), spec, out, pages)
        return out.getvalue()

    # -- ExternalSigningPort ----------------------------------------------------------------
    def prepare(self, pdf: bytes, spec: SignSpec, *, certificate_pem: str, chain_pem: list[str]) -> PreparedExternal:
        from signing.external import prepare_external_signature

        _check_certificate_holder(certificate_pem, spec.full_name)
        if not chain_pem:  # plugins return the leaf only: add the CA chain
            chain_pem = self._ca_chain()
        appearance = self._appearance(io.BytesIO(pdf), spec)
        tsa = self.tsa_url
        session = prepare_external_signature(
            pdf, signer_cert=certificate_pem.encode(), chain=[c.encode() for c in chain_pem], appearance=appearance,
            timestamp_url=tsa if spec.level != "B-B" else None, ttl=timedelta(minutes=15),
            reason=spec.reason, location=spec.location, validation_context=self._validation_context(),
        )
        return PreparedExternal(prepared_pdf=session.prepared_pdf, state=session.state,
                                data_to_sign=session.data_to_sign, digest_algorithm=session.digest_algorithm,
                                signature_mechanism=session.signature_mechanism, expires_at=session.expires_at)

    def complete(self, prepared_pdf: bytes, state: dict[str, Any], signature: bytes, spec: SignSpec) -> bytes:
        from signing.external import complete_external_signature

        timestamper = None
        if spec.level != "B-B" and not self.tsa_url:
            timestamper = self._timestamper()
        signed = complete_external_signature(prepared_pdf, state, signature, timestamper=timestamper)
        # token and remote signatures reach the agency's level like server ones: DSS (B-LT), then a
        # document timestamp (B-LTA)
        from signing.completion import raise_level

        return raise_level(signed, field_name=state["field_name"], level=spec.level,
                           validation_context=self._validation_context(),
                           timestamper=self._timestamper() if spec.level == "B-LTA" else None)

    # -- TimestampRenewalPort (B-LTA renewal) ------------------------------------------------------
    def timestamp_expiry(self, pdf: bytes) -> datetime | None:
        from signing.renewal import timestamp_expiry

        return timestamp_expiry(pdf)

    def renew_timestamp(self, pdf: bytes) -> bytes:
        from signing.renewal import renew

        return renew(pdf, timestamper=self._timestamper(), validation_context=self._validation_context())


def _check_certificate_holder(certificate_pem: str, full_name: str) -> None:
    """The token's certificate must name the signing official (its CN is their full name)."""
    import unicodedata

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from ioffice.kernel.errors import PermissionDenied

    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise InvalidInput("certificate_pem không phải chứng thư số PEM hợp lệ.") from exc
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]

    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())

    if norm(full_name) not in {norm(str(n)) for n in names}:
        shown = ", ".join(str(n) for n in names) or "(không có)"
        raise PermissionDenied(
            f"Chứng thư số (trên USB token hoặc được tải lên) không mang tên của cán bộ ký ({full_name}): "
            f"tên trên chứng thư là {shown}.")


def _first_page_size(source: BinaryIO) -> tuple[float, float]:
    from pypdf import PdfReader

    pos = source.tell()
    try:
        box = PdfReader(source, strict=False).pages[0].mediabox
        return float(box.width), float(box.height)
    finally:
        source.seek(pos)


def _unique_field(pdf: bytes, base: str) -> str:
    from pypdf import PdfReader

    try:
        fields = PdfReader(io.BytesIO(pdf), strict=False).get_fields() or {}
    except Exception:
        fields = {}
    name, i = base, 1
    while name in fields:
        i += 1
        name = f"{base}{i}"
    return name
