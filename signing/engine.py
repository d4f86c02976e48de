"""Fast PAdES signing engine on pyHanko.

Why it is fast (compared with ``SimpleSigner.load_pkcs12`` + ``signers.sign_pdf`` defaults):

* :class:`PreparedSigner` parses the private key once (a ``cryptography`` key object, reused for
  every signature; it is thread-safe) instead of re-parsing the PKCS#8 DER for every raw signature.
* The CMS ``SignedData`` is assembled from pre-encoded DER pieces (certificate set, signer
  identifier, algorithm identifiers, the constant signed attributes) instead of being rebuilt and
  re-encoded through asn1crypto for every document; only the message digest, the raw signature
  and (B-T and above) the timestamp token change per document.
* The size of ``/Contents`` is computed once per signer (no dry-run signature per document) and
  passed to pyHanko as ``bytes_reserved``.

Everything else — incremental update, appearance streams, DocMDP/FieldMDP locks, DSS (B-LT),
document timestamps (B-LTA) — is pyHanko's ``PdfSigner`` on an ``IncrementalPdfFileWriter``.

Levels: ``B-B`` (CAdES-detached, signing certificate v2 attribute, no signing-time attribute:
the time is in the signature dictionary's ``/M``), ``B-T`` (+ RFC 3161 signature timestamp),
``B-LT`` (+ DSS with certificates, OCSP responses and CRLs), ``B-LTA`` (+ document timestamp).

Stamping number/symbol and date at issue time (:func:`issue_stamp`) is done as an additional
text-only visible signature of the agency — never as a change to page content, which would make
earlier signatures report "modified" in every validator.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Literal, Sequence

from asn1crypto import cms, x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext

from ioffice.kernel.errors import InvalidDocument, InvalidInput, ServiceUnavailable
from signing.errors import SignerCertificateRejected, SigningFailed, SigningKeyUnavailable

log = logging.getLogger(__name__)

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")

_TIMESTAMP_RESERVE = 12 * 1024  # DER bytes kept free for an RFC 3161 token with its TSA chain
_RETRY_ATTEMPTS = 3
_RETRY_BASE_DELAY = 0.2  # seconds; 0.2, 0.4 (+ jitter)
_DEFAULT_TIMEOUT = 5  # seconds per TSA / OCSP request


# --------------------------------------------------------------------------------------------
# DER helpers
# --------------------------------------------------------------------------------------------
def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


_OID_DATA = bytes.fromhex("06092a864886f70d010701")
_OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_INT_1 = b"\x02\x01\x01"


from certs.aio import run_sync as _run_sync  # noqa: E402


# --------------------------------------------------------------------------------------------
# PreparedSigner
# --------------------------------------------------------------------------------------------
class _PreparedCmsSigner(signers.Signer):
    """pyHanko ``Signer`` whose ``async_sign`` fills a pre-encoded CMS template."""

    def __init__(self, prepared: "PreparedSigner", base: signers.Signer) -> None:
        super().__init__(
            prefer_pss=base.prefer_pss,
            embed_roots=base.embed_roots,
            signature_mechanism=base.signature_mechanism,
            signing_cert=base.signing_cert,
            cert_registry=base.cert_registry,
        )
        self._prepared = prepared

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return await self._prepared._raw_sign(data)

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        if digest_algorithm != "sha256" or encap_content_info is not None:
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info,
            )
        der = await self._prepared._build_cms(data_digest, timestamper=timestamper)
        return cms.ContentInfo.load(der)


class PreparedSigner:
    """A signing key + certificate chain prepared once and reused for many documents.

    Build it with :meth:`from_pkcs12`, :meth:`from_spec` (PKCS#12 path or ``pkcs11:`` URI) or
    from any pyHanko ``Signer``. Thread-safe: it holds only immutable encoded data and a key
    object whose ``sign`` may be called concurrently. PKCS#11 signers serialise their raw
    signatures with a lock (one session).
    """

    def __init__(self, signer: signers.Signer, *, extra_certs: Sequence[asn1_x509.Certificate] = ()) -> None:
        if signer.signing_cert is None:
            raise SigningKeyUnavailable("Khóa ký không có chứng thư số đi kèm")
        self.base_signer = signer
        self.signing_cert: asn1_x509.Certificate = signer.signing_cert
        if extra_certs:
            signer.cert_registry.register_multiple(list(extra_certs))
        self._lock = threading.Lock()
        self._key = None
        if isinstance(signer, SimpleSigner):
            # parse once; skip the (slow, already done by the loader) RSA consistency check
            der = signer.signing_key.dump()
            try:
                self._key = serialization.load_der_private_key(
                    der, password=None, unsafe_skip_rsa_key_validation=True
                )
            except TypeError:  # older cryptography
                self._key = serialization.load_der_private_key(der, password=None)
        pub = self.signing_cert.public_key
        self.key_algorithm = pub.algorithm  # 'rsa' | 'ec'
        self.signature_mechanism = signer.get_signature_mechanism_for_digest("sha256")
        mech = self.signature_mechanism["algorithm"].native
        if mech not in ("sha256_rsa", "rsassa_pkcs1v15", "sha256_ecdsa", "ecdsa", "rsassa_pss"):
            raise SigningKeyUnavailable("Thuật toán của khóa ký không được hỗ trợ")
        self._mech = mech
        self._pss_params = None
        if mech == "rsassa_pss":
            from pyhanko.sign.general import process_pss_params

            self._pss_params = process_pss_params(self.signature_mechanism["parameters"])

        # certificates: signer first, then the rest of the registry (roots included)
        certs = [self.signing_cert] + [
            c for c in signer.cert_registry if c.dump() != self.signing_cert.dump()
        ]
        self.chain: list[asn1_x509.Certificate] = certs
        cert_ders = sorted({c.dump() for c in certs})
        self._certs_der = _tlv(0xA0, b"".join(cert_ders))
        self._digest_alg_der = _tlv(0x30, bytes.fromhex("0609608648016503040201") + b"\x05\x00")
        self._sig_alg_der = self.signature_mechanism.dump()
        self._sid_der = cms.IssuerAndSerialNumber(
            {"issuer": self.signing_cert.issuer, "serial_number": self.signing_cert.serial_number}
        ).dump()

        # The constant signed attributes exactly as pyHanko builds them for PAdES.
        dummy = b"\x00" * 32
        attrs = _run_sync(
            lambda: signer.signed_attrs(
                dummy, "sha256", attr_settings=PdfCMSSignedAttributes(), use_pades=True,
                timestamper=None, dry_run=False, is_pdf_sig=True,
            )
        )
        parts: list[bytes] = []
        self._md_index = -1
        for attr in attrs:
            d = attr.dump()
            if attr["type"].native == "message_digest":
                self._md_index = len(parts)
            parts.append(d)
        # DER SET OF: sort by encoding; the digest bytes come after type/length prefixes that
        # already differ between attributes, so the order is the same for every digest.
        order = sorted(range(len(parts)), key=lambda i: parts[i])
        self._attr_parts = [parts[i] for i in order]
        self._md_index = order.index(self._md_index)
        md_der = self._attr_parts[self._md_index]
        assert md_der.endswith(dummy)
        self._md_prefix = md_der[: -32]

        # Signature size: computed once. RSA/ECDSA signatures have a bounded size.
        key_bytes = (pub.bit_size + 7) // 8
        sig_len = key_bytes if self.key_algorithm == "rsa" else 2 * key_bytes + 16
        self._b_b_size = (
            len(self._certs_der) + sum(map(len, self._attr_parts)) + len(self._sid_der)
            + len(self._sig_alg_der) + 2 * len(self._digest_alg_der) + sig_len + 128
        )

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_pkcs12(cls, path: str | os.PathLike, passphrase: bytes | None, *,
                    extra_certs: Sequence[asn1_x509.Certificate] = ()) -> "PreparedSigner":
        """Load a PKCS#12 file once. Raises SigningKeyUnavailable (missing file, bad passphrase)."""
        from certs.keys import load_signer

        return cls(load_signer(str(path), passphrase=passphrase), extra_certs=extra_certs)

    @classmethod
    def from_key_and_cert(cls, key: Any, cert: Any, chain: Sequence[Any] = ()) -> "PreparedSigner":
        """From ``cryptography`` key and certificate objects (chain: CA certificates)."""
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        def a(c: Any) -> asn1_x509.Certificate:
            return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

        from asn1crypto import keys as asn1_keys

        kinfo = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        base = SimpleSigner(signing_cert=a(cert), signing_key=kinfo,
                            cert_registry=SimpleCertificateStore.from_certs([a(c) for c in chain]))
        return cls(base)

    @classmethod
    def from_spec(cls, spec: str, *, passphrase: bytes | None = None, **kw: Any) -> "PreparedSigner":
        """PKCS#12 path or ``pkcs11:`` URI (see :func:`certs.keys.load_signer`)."""
        from certs.keys import load_signer

        return cls(load_signer(spec, passphrase=passphrase, **kw))

    # -- properties ------------------------------------------------------------------------
    @property
    def subject_name(self) -> str:
        return self.signing_cert.subject.native.get("common_name", "") or ""

    def bytes_reserved(self, level: str) -> int:
        """Hex characters to reserve in ``/Contents`` for a signature of ``level``."""
        size = self._b_b_size + (0 if level == "B-B" else _TIMESTAMP_RESERVE)
        size += size // 8
        return 2 * size

    # -- crypto ---------------------------------------------------------------------------
    async def _raw_sign(self, data: bytes) -> bytes:
        key = self._key
        if key is None:
            with self._lock:
                return await self.base_signer.async_sign_raw(data, "sha256")
        if isinstance(key, rsa.RSAPrivateKey):
            if self._pss_params is not None:
                pad, algo = self._pss_params
                return key.sign(data, pad, algo)
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        raise SigningKeyUnavailable("Loại khóa ký không được hỗ trợ")

    async def _build_cms(self, digest: bytes, *, timestamper: TimeStamper | None) -> bytes:
        parts = list(self._attr_parts)
        parts[self._md_index] = self._md_prefix + digest
        attrs_content = b"".join(parts)
        signature = await self._raw_sign(_tlv(0x31, attrs_content))
        unsigned = b""
        if timestamper is not None:
            token = await timestamper.async_timestamp(hashlib.sha256(signature).digest(), "sha256")
            attr = cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})
            unsigned = _tlv(0xA1, attr.dump())
        signer_info = _tlv(
            0x30,
            _INT_1 + self._sid_der + self._digest_alg_der + _tlv(0xA0, attrs_content)
            + self._sig_alg_der + _tlv(0x04, signature) + unsigned,
        )
        signed_data = _tlv(
            0x30,
            _INT_1 + _tlv(0x31, self._digest_alg_der) + _tlv(0x30, _OID_DATA)
            + self._certs_der + _tlv(0x31, signer_info),
        )
        return _tlv(0x30, _OID_SIGNED_DATA + _tlv(0xA0, signed_data))

    def pyhanko_signer(self) -> signers.Signer:
        """A pyHanko ``Signer`` using this prepared material (for pyHanko APIs)."""
        return _PreparedCmsSigner(self, self.base_signer)


# --------------------------------------------------------------------------------------------
# Retrying services
# --------------------------------------------------------------------------------------------
class _ServiceFailure(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class RetryingTimeStamper(TimeStamper):
    """Wrap a TimeStamper: retry failed requests with exponential backoff, then raise
    :class:`ServiceUnavailable`."""

    def __init__(self, inner: TimeStamper, *, attempts: int = _RETRY_ATTEMPTS,
                 base_delay: float = _RETRY_BASE_DELAY) -> None:
        super().__init__(include_nonce=inner.include_nonce)
        self.inner = inner
        self.attempts = attempts
        self.base_delay = base_delay
        self.cert_registry = inner.cert_registry

    async def async_request_tsa_response(self, req):  # pragma: no cover - delegated
        return await self.inner.async_request_tsa_response(req)

    async def async_timestamp(self, message_digest, md_algorithm):
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                return await self.inner.async_timestamp(message_digest, md_algorithm)
            except (TimestampRequestError, OSError, asyncio.TimeoutError, Exception) as exc:  # noqa: B014
                last = exc
                log.warning("TSA request failed (attempt %d/%d): %s", attempt + 1, self.attempts,
                            type(exc).__name__)
                if attempt + 1 < self.attempts:
                    await asyncio.sleep(self.base_delay * (2 ** attempt) * (1 + random.random() / 4))
        raise _ServiceFailure("tsa") from last

    async def async_dummy_response(self, md_algorithm):
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                return await self.inner.async_dummy_response(md_algorithm)
            except Exception as exc:
                last = exc
                if attempt + 1 < self.attempts:
                    await asyncio.sleep(self.base_delay * (2 ** attempt))
        raise _ServiceFailure("tsa") from last

    async def validation_paths(self, validation_context):
        await self.async_dummy_response("sha256")
        async for p in self.inner.validation_paths(validation_context):
            yield p


def make_validation_context(
    trust_roots: Sequence[asn1_x509.Certificate],
    *,
    other_certs: Sequence[asn1_x509.Certificate] = (),
    revocation_mode: str = "hard-fail",
    timeout: float = _DEFAULT_TIMEOUT,
) -> Callable[[], ValidationContext]:
    """A factory of fresh validation contexts (fetching allowed, short timeouts) for B-LT/B-LTA.

    A ``ValidationContext`` fixes "now" when it is built, so each signing needs a new one:
    pass the factory itself as ``sign_pdf(validation_context=...)``.
    """
    from datetime import timedelta

    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

    roots = list(trust_roots)
    others = list(other_certs)

    def factory() -> ValidationContext:
        return ValidationContext(
            trust_roots=roots, other_certs=others, allow_fetching=True,
            revocation_mode=revocation_mode, time_tolerance=timedelta(seconds=30),
            fetcher_backend=OwnedFetcherBackend(
                AIOHttpFetcherBackend(per_request_timeout=max(1, int(timeout)))
            ),
        )

    return factory


def http_timestamper(url: str, *, timeout: float = _DEFAULT_TIMEOUT) -> TimeStamper:
    """An RFC 3161 client for ``url`` with a short timeout and retry/backoff."""
    return RetryingTimeStamper(HTTPTimeStamper(url, timeout=int(max(1, timeout))))


# --------------------------------------------------------------------------------------------
# Appearance
# --------------------------------------------------------------------------------------------
@dataclass
class _Appearance:
    page: int
    box: tuple[float, float, float, float]
    stamp_style: Any
    text_params: dict | None


def _as_appearance(appearance: Any) -> _Appearance | None:
    if appearance is None:
        return None
    try:
        return _Appearance(
            page=int(getattr(appearance, "page", 0)),
            box=tuple(getattr(appearance, "box")),
            stamp_style=getattr(appearance, "stamp_style", None),
            text_params=getattr(appearance, "text_params", None),
        )
    except AttributeError as exc:
        raise InvalidInput("Cấu hình hình thức chữ ký không hợp lệ") from exc


# --------------------------------------------------------------------------------------------
# sign_pdf
# --------------------------------------------------------------------------------------------
def _open_input(data: bytes | BinaryIO) -> BinaryIO:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)  # shares the buffer; never written to
    return data


def _existing_field_names(writer: IncrementalPdfFileWriter) -> list[str]:
    return [name for name, _, _ in fields.enumerate_sig_fields(writer.prev)]


def _has_signatures(writer: IncrementalPdfFileWriter) -> bool:
    return any(True for _ in fields.enumerate_sig_fields(writer.prev, filled_status=True))


def _classify(exc: BaseException) -> BaseException:
    """Map library failures to DomainErrors (no transport details)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _ServiceFailure):
            if seen.service == "tsa":
                return ServiceUnavailable(
                    "Không kết nối được dịch vụ cấp dấu thời gian (TSA) sau nhiều lần thử; "
                    "tài liệu chưa được ký và giữ nguyên phiên bản trước."
                )
            return ServiceUnavailable(
                "Không kiểm tra được tình trạng thu hồi chứng thư số (OCSP/CRL) sau nhiều lần thử; "
                "tài liệu chưa được ký và giữ nguyên phiên bản trước."
            )
        seen = seen.__cause__ or seen.__context__
    return exc


def _is_revocation_failure(exc: BaseException) -> bool:
    from pyhanko_certvalidator.errors import (
        InsufficientRevinfoError, PathValidationError, RevokedError,
    )

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RevokedError):
            return False
        if isinstance(seen, InsufficientRevinfoError):
            return True
        if isinstance(seen, PathValidationError) and "revocation" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_network_error(exc: BaseException) -> bool:
    """A fetch (OCSP/CRL/certificate) that timed out or could not connect."""
    try:
        import aiohttp

        net: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError, aiohttp.ClientError)
    except ImportError:  # pragma: no cover
        net = (TimeoutError, ConnectionError)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, net):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _revoked(exc: BaseException) -> bool:
    from pyhanko_certvalidator.errors import RevokedError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RevokedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def sign_pdf(
    data: bytes | BinaryIO,
    *,
    signer: PreparedSigner,
    level: Level = "B-B",
    appearance: Any = None,
    field_name: str | None = None,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | Callable[[], ValidationContext] | None = None,
    certify: bool = False,
    output: BinaryIO | None = None,
    reason: str | None = None,
    location: str | None = None,
    reserve_fields: Sequence[tuple[str, int, tuple[float, float, float, float]]] = (),
) -> bytes | None:
    """Sign ``data`` (a PDF) with an incremental update and return the signed bytes.

    With ``output`` the result is streamed there (nothing returned; large files never held in
    memory when ``data`` is a file object). ``level`` B-T and above need ``timestamper``
    (see :func:`http_timestamper`); B-LT and B-LTA need ``validation_context`` (trust roots,
    fetching allowed) or, better, a factory from :func:`make_validation_context` (a fresh context
    per attempt; revocation fetch failures are retried with backoff). ``appearance`` is a ``signing.appearance.VisibleSignature`` (or anything
    with ``page``, ``box``, ``stamp_style``, ``text_params``); None means invisible.
    ``certify`` makes this the certification signature (DocMDP: form filling and further
    signatures allowed); other signatures lock their own field only. Validators (pyHanko,
    Adobe) accept only *pre-existing* signature fields being signed after a certification
    signature, so a certifying signer should create the later fields (seal, number, date) in
    the same revision: ``reserve_fields=[(name, page, box), ...]`` adds empty signature fields
    that later ``sign_pdf(field_name=name)`` calls fill. Without certification (the default),
    later signatures may add new fields freely.

    The input is never modified. Raises InvalidDocument (not a readable PDF), InvalidInput
    (bad arguments, field exists, certifying an already signed document),
    SignerCertificateRejected (signer revoked, found while collecting revocation data),
    ServiceUnavailable (TSA or OCSP/CRL failing after retries), SigningFailed (anything else).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called from async code: pyHanko's sync API needs its own loop (prefer async_sign_pdf)
        return _run_sync(lambda: asyncio.to_thread(
            sign_pdf, data, signer=signer, level=level, appearance=appearance,
            field_name=field_name, timestamper=timestamper, validation_context=validation_context,
            certify=certify, output=output, reason=reason, location=location,
            reserve_fields=reserve_fields,
        ))
    if level not in LEVELS:
        raise InvalidInput(f"Mức chữ ký không hợp lệ: {level}")
    if level != "B-B" and timestamper is None:
        raise InvalidInput("Mức chữ ký này cần dịch vụ cấp dấu thời gian (TSA)")
    if level in ("B-LT", "B-LTA") and validation_context is None:
        raise InvalidInput("Mức chữ ký B-LT/B-LTA cần cấu hình kiểm tra chứng thư (trust roots)")
    if timestamper is not None and not isinstance(timestamper, RetryingTimeStamper):
        timestamper = RetryingTimeStamper(timestamper)
    app = _as_appearance(appearance)

    stream = _open_input(data)
    try:
        start = stream.tell()
    except (OSError, AttributeError):
        start = 0
    try:
        writer = IncrementalPdfFileWriter(stream, strict=False)
    except (PdfError, ValueError, OSError, KeyError, TypeError, IndexError) as exc:
        raise InvalidDocument("Tệp không phải là tài liệu PDF hợp lệ hoặc đã bị hỏng") from exc
    if writer.prev.encrypted:
        raise InvalidDocument("Không ký được tài liệu PDF đã mã hóa")

    if app is not None and app.page < 0:
        pages = int(writer.root["/Pages"]["/Count"])
        app.page = max(0, pages + app.page)

    existing = _existing_field_names(writer)
    if field_name is None:
        n = len(existing) + 1
        while f"Signature{n}" in existing:
            n += 1
        field_name = f"Signature{n}"
    elif field_name in existing:
        # An existing empty field may be filled; a filled one is an error.
        filled = [n for n, _, _ in fields.enumerate_sig_fields(writer.prev, filled_status=True)]
        if field_name in filled:
            raise InvalidInput(f"Trường chữ ký {field_name} đã được ký")
    if certify and _has_signatures(writer):
        raise InvalidInput("Tài liệu đã có chữ ký, không thể ký chứng nhận (certify)")

    embed = level in ("B-LT", "B-LTA")
    field_spec = None
    if field_name not in existing:
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=app.page if app else 0,
            box=tuple(int(round(v)) for v in app.box) if app else None,
            field_mdp_spec=None if certify else FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[field_name]),
        )

    for name, _, _ in reserve_fields:
        if name in existing or name == field_name:
            raise InvalidInput(f"Trường chữ ký {name} đã tồn tại")

    def add_reserved(w: IncrementalPdfFileWriter) -> IncrementalPdfFileWriter:
        for name, page, box in reserve_fields:
            fields.append_signature_field(w, fields.SigFieldSpec(
                sig_field_name=name, on_page=page, box=tuple(int(round(v)) for v in box)))
        return w

    add_reserved(writer)

    def make_pdf_signer() -> signers.PdfSigner:
        vc = None
        if embed:
            vc = validation_context() if callable(validation_context) else validation_context
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            certify=certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            embed_validation_info=embed,
            use_pades_lta=level == "B-LTA",
            validation_context=vc,
            reason=reason,
            location=location,
        )
        return signers.PdfSigner(
            meta,
            signer=signer.pyhanko_signer(),
            timestamper=timestamper if level != "B-B" else None,
            stamp_style=app.stamp_style if app else None,
            new_field_spec=field_spec,
        )

    own_output = output is None
    out: BinaryIO = io.BytesIO() if own_output else output  # type: ignore[assignment]
    try:
        out_start = out.tell()
    except (OSError, AttributeError):
        out_start = None
    attempts = _RETRY_ATTEMPTS if embed and callable(validation_context) else 1
    try:
        for attempt in range(attempts):
            try:
                if attempt:
                    writer = add_reserved(IncrementalPdfFileWriter(stream, strict=False))
                    if out_start is not None:
                        out.seek(out_start)
                        out.truncate()
                make_pdf_signer().sign_pdf(
                    writer,
                    bytes_reserved=signer.bytes_reserved(level),
                    appearance_text_params=(app.text_params if app else None) or None,
                    output=out,
                )
                break
            except Exception as exc:
                fetch_failed = _is_revocation_failure(exc) or (embed and _is_network_error(exc))
                if attempt + 1 < attempts and fetch_failed and not _revoked(exc):
                    log.warning("revocation data unavailable (attempt %d/%d)", attempt + 1, attempts)
                    time.sleep(_RETRY_BASE_DELAY * (2 ** attempt))
                    stream.seek(start)
                    continue
                raise
    except BaseException as exc:
        # leave the caller's output as it was
        if not own_output and out_start is not None:
            try:
                out.seek(out_start)
                out.truncate()
            except OSError:
                pass
        mapped = _classify(exc)
        if mapped is not exc:
            raise mapped from None
        if _revoked(exc):
            raise SignerCertificateRejected(
                "Chứng thư số của người ký đã bị thu hồi; không thể ký.", reason="revoked"
            ) from None
        if _is_revocation_failure(exc) or (embed and _is_network_error(exc)):
            raise ServiceUnavailable(
                "Không lấy được thông tin thu hồi chứng thư số (OCSP/CRL); "
                "tài liệu chưa được ký và giữ nguyên phiên bản trước."
            ) from None
        from pyhanko.pdf_utils.misc import PdfReadError

        if isinstance(exc, PdfReadError):
            raise InvalidDocument("Tệp PDF bị hỏng, không ký được") from None
        if isinstance(exc, (SigningError, PdfError)):
            log.exception("signing failed")
            raise SigningFailed() from None
        raise
    finally:
        try:
            stream.seek(start)
        except (OSError, ValueError):
            pass
    if own_output:
        return out.getvalue()  # type: ignore[union-attr]
    return None


async def async_sign_pdf(data: bytes | BinaryIO, **kwargs: Any) -> bytes | None:
    """:func:`sign_pdf` in a worker thread, for async callers (FastAPI routes)."""
    return await asyncio.to_thread(sign_pdf, data, **kwargs)


def issue_stamp(
    data: bytes | BinaryIO,
    *,
    signer: PreparedSigner,
    text: str,
    page: int = 0,
    box: tuple[float, float, float, float],
    level: Level = "B-B",
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    field_name: str | None = None,
    font_path: str | None = None,
    output: BinaryIO | None = None,
) -> bytes | None:
    """Stamp ``text`` (number/symbol, or the issue date) into an already signed document.

    Done as a text-only visible signature of the agency (``signer``) whose appearance shows the
    text, so the earlier signatures stay valid: pages are never rewritten. Raises as
    :func:`sign_pdf`.
    """
    try:
        from signing.appearance import number_date_mark
    except ImportError:  # pragma: no cover - appearance module absent
        number_date_mark = None
    if number_date_mark is not None and font_path is None:
        app: Any = number_date_mark(text=text, box=box, page=page)
    else:
        style = _text_only_style(font_path)
        app = _Appearance(page=page, box=box, stamp_style=style, text_params={"stamp_text": text})
    return sign_pdf(
        data, signer=signer, level=level, appearance=app, field_name=field_name,
        timestamper=timestamper, validation_context=validation_context, output=output,
    )


_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
)


def _text_only_style(font_path: str | None):
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    path = font_path or next((p for p in _FONT_CANDIDATES if Path(p).exists()), None)
    box_style = TextBoxStyle(font=GlyphAccumulatorFactory(path), font_size=10) if path else TextBoxStyle(font_size=10)
    return TextStampStyle(stamp_text="%(stamp_text)s", text_box_style=box_style, border_width=0,
                          background=None)
