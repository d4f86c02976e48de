"""Implements the core's signing ports (``ioffice.signatures``) with pyHanko (``signing``) and the
keys of ``certs``: loads each key once, chooses the Decree 30 appearance for the kind of
signature, timestamps and embeds revocation data per the PAdES level.

With the development PKI and no ``IOFFICE_TSA_URL``, the TSA answers in-process and B-LT
revocation data (CRLs) comes from the development CA directly, so signing never needs the
service to call itself over HTTP.
"""
from __future__ import annotations

import base64
import io
import threading
from datetime import timedelta
from typing import Any, BinaryIO

from ioffice.errors import InvalidInput
from ioffice.signatures import PreparedExternal, SignSpec

from .container import Container
from .trust import trust_roots

DEFAULT_NUMBER_BOX = (57.0, 716.0, 270.0, 740.0)
DEFAULT_DATE_BOX = (285.0, 716.0, 560.0, 740.0)


class _DevTimeStamper:
    """Factory of a pyHanko TimeStamper answering from the development TSA in-process."""

    @staticmethod
    def make(services):
        from asn1crypto import tsp
        from pyhanko.sign.timestamps import TimeStamper

        class DevTimeStamper(TimeStamper):
            async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
                return tsp.TimeStampResp.load(services.tsa_respond(req.dump()))

        return DevTimeStamper()


class PyHankoSigning:
    """PdfSigningPort + ExternalSigningPort for one app."""

    CHECK_TTL_SECONDS = 300.0

    def __init__(self, container: Container) -> None:
        self.c = container
        self._lock = threading.Lock()
        self._signers: dict[str, Any] = {}
        self._checked: dict[str, float] = {}  # key ref -> monotonic time of the last passed check

    # -- keys -------------------------------------------------------------------------------
    @property
    def devpki(self):
        return self.c.extras.get("devpki")

    def default_level(self) -> str:
        s = self.c.settings
        if s.signature_level:
            return s.signature_level
        return "B-LT" if (s.tsa_url or self.devpki is not None) else "B-B"

    def _signer(self, key_ref: str | None):
        from signing.engine import PreparedSigner

        settings = self.c.settings
        if key_ref is None:
            key_ref = getattr(settings, "seal_key", None) or (str(self.devpki.seal_key_path) if self.devpki else None)
            if key_ref is None:
                raise InvalidInput("Chưa cấu hình khóa ký số của cơ quan (IOFFICE_SEAL_KEY).")
        if key_ref.startswith("devpki:"):
            if self.devpki is None:
                raise InvalidInput("Khóa ký phát triển không còn khả dụng (thiếu PKI phát triển).")
            try:
                key_ref = str(self.devpki.personal_key_path(key_ref.split(":", 1)[1]))
            except KeyError as exc:
                raise InvalidInput("Người dùng chưa được cấp khóa ký số.") from exc
        with self._lock:
            signer = self._signers.get(key_ref)
            if signer is None:
                passphrase = None
                if key_ref.startswith("pkcs11:"):
                    signer = PreparedSigner.from_spec(key_ref, module_path=settings.pkcs11_module)
                else:
                    seal_pass = getattr(settings, "seal_key_passphrase", None)
                    passphrase = seal_pass.encode() if (seal_pass and key_ref == getattr(settings, "seal_key", None)) \
                        else settings.pki_passphrase
                    signer = PreparedSigner.from_pkcs12(key_ref, passphrase)
                self._signers[key_ref] = signer
        self._check(key_ref, signer)
        return signer

    def _check(self, key_ref: str, signer) -> None:
        """Before signing: the certificate is valid now, not revoked, allows signing and chains to a
        trust root (refusal: 422 naming the reason). A passed check is remembered for 5 minutes."""
        import time

        from certs.checks import check_prepared_signer

        last = self._checked.get(key_ref)
        if last is not None and time.monotonic() - last < self.CHECK_TTL_SECONDS:
            return
        roots = trust_roots(self.c)
        if self.c.settings.tsa_url is None and self.devpki is not None:
            from certs.devservices import services_for

            services = services_for(self.devpki)
            check_prepared_signer(signer, trust_roots=roots, allow_fetching=False, revocation_mode="hard-fail",
                                  crls=[services.crl(), services.root_crl()])
        else:
            check_prepared_signer(signer, trust_roots=roots, revocation_mode="hard-fail")
        self._checked[key_ref] = time.monotonic()

    def _timestamper(self):
        from signing.engine import http_timestamper

        if self.c.settings.tsa_url:
            return http_timestamper(self.c.settings.tsa_url)
        if self.devpki is not None:
            from certs.devservices import services_for

            return _DevTimeStamper.make(services_for(self.devpki))
        return None

    def _validation_context(self):
        from pyhanko_certvalidator import ValidationContext

        from signing.engine import make_validation_context

        roots = trust_roots(self.c)
        if self.c.settings.tsa_url is None and self.devpki is not None:
            from certs.devservices import services_for

            services = services_for(self.devpki)

            def factory():
                return ValidationContext(trust_roots=roots, crls=[services.crl(), services.root_crl()],
                                         allow_fetching=False, revocation_mode="hard-fail")

            return factory
        return make_validation_context(roots)

    # -- appearances ------------------------------------------------------------------------
    def _org_settings(self, spec: SignSpec) -> dict:
        return spec.extra.get("org_settings") or {}

    def _appearance(self, source: BinaryIO, spec: SignSpec):
        from signing import appearance as ap

        org = self._org_settings(spec)
        personal_box = tuple(org.get("personal_box") or ap.DEFAULT_PERSONAL_BOX)
        if spec.kind == "personal":
            return ap.personal_signature(position=spec.position or "Lãnh đạo", full_name=spec.full_name,
                                         authority=spec.authority, signature_png=spec.signature_image,
                                         box=personal_box)
        if spec.kind == "seal":
            return ap.seal_signature(seal_png=spec.seal_image, personal_box=personal_box,
                                     agency_name=spec.agency_name)
        width, height = _first_page_size(source)
        if spec.kind == "attachment":
            return ap.attachment_mark(number_symbol=spec.number_symbol or "", page_width=width, page_height=height)
        if spec.kind == "copy":
            return ap.copy_mark(copy_form=spec.copy_form or "SAO Y", agency_name=spec.agency_name,
                                page_width=width, page_height=height)
        return None

    # -- PdfSigningPort ---------------------------------------------------------------------
    def sign(self, source: BinaryIO, spec: SignSpec, output: BinaryIO) -> None:
        from signing.engine import sign_pdf

        signer = self._signer(spec.key_ref)
        appearance = self._appearance(source, spec)
        source.seek(0)
        level = spec.level
        sign_pdf(source, signer=signer, level=level, appearance=appearance, field_name=spec.field_name,
                 timestamper=self._timestamper() if level != "B-B" else None,
                 validation_context=self._validation_context() if level in ("B-LT", "B-LTA") else None,
                 output=output, reason=spec.reason, location=spec.location)

    def seal_issued(self, pdf: bytes, spec: SignSpec, *, number_text: str, date_text: str) -> bytes:
        """At issue: stamp the number/symbol and the date line as text-only agency signatures
        (earlier signatures stay valid), then add the agency's seal signature."""
        from signing import appearance as ap
        from signing.engine import sign_pdf

        org = self._org_settings(spec)
        signer = self._signer(None)
        page = int(org.get("number_page", 0))
        data = pdf
        for name, text, box, italic in (
            ("SoKyHieu", number_text, org.get("number_box") or DEFAULT_NUMBER_BOX, False),
            ("NgayBanHanh", date_text, org.get("date_box") or DEFAULT_DATE_BOX, True),
        ):
            mark = ap.number_date_mark(text=text, box=tuple(box), page=page, italic=italic)
            data = sign_pdf(io.BytesIO(data), signer=signer, level="B-B", appearance=mark,
                            field_name=_unique_field(data, name), reason="Cấp số, ngày văn bản")
        out = io.BytesIO()
        self.sign(io.BytesIO(data), spec, out)
        return out.getvalue()

    # -- ExternalSigningPort ----------------------------------------------------------------
    def prepare(self, pdf: bytes, spec: SignSpec, *, certificate_pem: str, chain_pem: list[str]) -> PreparedExternal:
        from signing.external import prepare_external_signature

        _check_certificate_holder(certificate_pem, spec.full_name)
        if not chain_pem and self.devpki is not None:  # plugins return the leaf only: add the CA chain
            from cryptography.hazmat.primitives.serialization import Encoding

            chain_pem = [c.public_bytes(Encoding.PEM).decode() for c in self.devpki.chain]
        appearance = self._appearance(io.BytesIO(pdf), spec)
        tsa = self.c.settings.tsa_url
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

        from signing.completion import raise_level

        timestamper = None
        if spec.level != "B-B" and not self.c.settings.tsa_url:
            timestamper = self._timestamper()
        signed = complete_external_signature(prepared_pdf, state, signature, timestamper=timestamper)
        # token and remote signatures reach the agency's level like server ones: DSS (B-LT), then a
        # document timestamp (B-LTA)
        return raise_level(signed, field_name=state["field_name"], level=spec.level,
                           validation_context=self._validation_context(),
                           timestamper=self._timestamper() if spec.level == "B-LTA" else None)


def _check_certificate_holder(certificate_pem: str, full_name: str) -> None:
    """The token's certificate must name the signing official (its CN is their full name)."""
    import unicodedata

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from ioffice.errors import PermissionDenied

    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise InvalidInput("certificate_pem không phải chứng thư số PEM hợp lệ.") from exc
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]

    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())

    if norm(full_name) not in {norm(str(n)) for n in names}:
        raise PermissionDenied("Chứng thư số trên USB token không mang tên của người đang đăng nhập.")


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


def adapter(container: Container) -> PyHankoSigning:
    a = container.extras.get("signing")
    if a is None:
        a = container.extras["signing"] = PyHankoSigning(container)
    return a


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
