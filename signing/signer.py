"""A signing key prepared once (:class:`PreparedSigner`): the constant CMS parts are built ahead, so
signing a document is one digest, one raw signature and a few concatenations."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner
from pyhanko.sign.timestamps import TimeStamper

from ioffice.kernel.aio import run_sync as _run_sync
from signing.errors import SigningKeyUnavailable

from .levels import _TIMESTAMP_RESERVE


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


class _PreparedCmsSigner(signers.Signer):
    """pyHanko ``Signer`` whose ``async_sign`` fills a pre-encoded CMS template."""

    def __init__(self, prepared: PreparedSigner, base: signers.Signer) -> None:
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

    async def async_sign(
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

    Build it from any pyHanko ``Signer`` (PKCS#12 files and ``pkcs11:`` URIs are opened by
    :func:`certs.keys.load_signer` and injected by the composition root), or with
    :meth:`from_key_and_cert`. Thread-safe: it holds only immutable encoded data and a key
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
            self._pss_params = _pss_padding(self.signature_mechanism["parameters"])

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
        self._b_b_size: int = (
            len(self._certs_der) + sum(map(len, self._attr_parts)) + len(self._sid_der)
            + len(self._sig_alg_der) + 2 * len(self._digest_alg_der) + sig_len + 128
        )

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_key_and_cert(cls, key: Any, cert: Any, chain: Sequence[Any] = ()) -> PreparedSigner:
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


_PSS_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _pss_padding(params: Any) -> tuple[padding.PSS, hashes.HashAlgorithm]:
    """cryptography's PSS padding and digest for RSASSA-PSS parameters (MGF1 only).

    pyHanko keeps its own helper private (it moved between releases), so we read the
    parameters here. Raises SigningKeyUnavailable for parameters we cannot honour.
    """
    md = _PSS_HASHES.get(params["hash_algorithm"]["algorithm"].native)
    mgf = params["mask_gen_algorithm"]
    mgf_md = _PSS_HASHES.get(mgf["parameters"]["algorithm"].native) if mgf["algorithm"].native == "mgf1" else None
    if md is None or mgf_md is None:
        raise SigningKeyUnavailable("Tham số RSASSA-PSS của khóa ký không được hỗ trợ")
    pad = padding.PSS(mgf=padding.MGF1(mgf_md()), salt_length=params["salt_length"].native)
    return pad, md()
