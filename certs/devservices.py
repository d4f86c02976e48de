"""In-process development services for the dev PKI: RFC 3161 TSA, OCSP responder and CRLs.

Built on certomancer's service implementations (``TimeStamper``, ``SimpleOCSPResponder``,
``CRLBuilder``) with the keys of a :class:`certs.devpki.DevPki`. Times are whole seconds
(NSS rejects fractional GeneralizedTime in OCSP responses).
"""
from __future__ import annotations

import datetime as dt
import threading

from asn1crypto import algos, keys, ocsp, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from certomancer.services import (
    CRLBuilder,
    RevocationInfoInterface,
    SimpleOCSPResponder,
    TimeStamper,
)
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from certs.devpki import DevPki

_SHA256_RSA = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _issue_time() -> dt.datetime:
    """thisUpdate of CRLs and OCSP responses: the start of the current hour.

    Like a CA that pre-produces its revocation data, this keeps thisUpdate at or before the
    signing time of documents signed in the same hour (validators reject revocation data that
    is newer than the moment they validate for). Revocations are reported at once regardless.
    """
    return _now().replace(minute=0, second=0)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: rsa.RSAPrivateKey) -> keys.PrivateKeyInfo:
    return keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )


class _DevRevocation(RevocationInfoInterface):
    def __init__(self, services: DevServices, issuer: asn1_x509.Certificate) -> None:
        self.services = services
        self.issuer = issuer

    def get_issuer_cert(self) -> asn1_x509.Certificate:
        return self.issuer

    def check_revocation_status(self, cid: ocsp.CertId, at_time: dt.datetime
                                ) -> tuple[ocsp.CertStatus, list[ocsp.SingleResponseExtension]]:
        serial = cid["serial_number"].native
        revoked = self.services.pki.revoked()
        when = revoked.get(serial)
        if when is not None:
            info = ocsp.RevokedInfo({"revocation_time": when.replace(microsecond=0),
                                     "revocation_reason": "key_compromise"})
            return ocsp.CertStatus(name="revoked", value=info), []
        return ocsp.CertStatus(name="good", value=None), []


class DevServices:
    """TSA, OCSP and CRL for one DevPki. Keys are decrypted once, on first use. Thread-safe."""

    def __init__(self, pki: DevPki) -> None:
        self.pki = pki
        self._lock = threading.Lock()
        self._loaded = False

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            pki = self.pki
            tsa_key, tsa_cert = pki.load_key(pki.tsa_key_path)
            ocsp_key, ocsp_cert = pki.load_key(pki.ocsp_key_path)
            int_key, int_cert = pki.load_key(pki.intermediate_key_path)
            root_key, root_cert = pki.load_key(pki.root_key_path)
            self._root = _asn1_cert(root_cert)
            self._int = _asn1_cert(int_cert)
            self._tsa_cert = _asn1_cert(tsa_cert)
            self._tsa_key = _asn1_key(tsa_key)
            self._ocsp_cert = _asn1_cert(ocsp_cert)
            self._ocsp_key = _asn1_key(ocsp_key)
            self._int_key = _asn1_key(int_key)
            self._root_key = _asn1_key(root_key)
            self._loaded = True

    # -- TSA -------------------------------------------------------------------------------
    def tsa_respond(self, request_der: bytes) -> bytes:
        """DER TimeStampResp for a DER TimeStampReq. Raises ValueError for a malformed request."""
        self._load()
        try:
            req = tsp.TimeStampReq.load(request_der)
            req.native  # noqa: B018 - force a full parse
        except Exception as exc:
            raise ValueError("malformed timestamp request") from exc
        stamper = TimeStamper(
            tsa_cert=self._tsa_cert, tsa_key=self._tsa_key,
            certs_to_embed=[self._int, self._root], fixed_dt=_now(),
        )
        return stamper.request_tsa_response(req).dump()

    # -- OCSP ------------------------------------------------------------------------------
    def ocsp_respond(self, request_der: bytes) -> bytes:
        """DER OCSPResponse for a DER OCSPRequest about certificates issued by the intermediate
        (answers ``malformed_request`` for garbage, ``unauthorized`` for other issuers)."""
        self._load()
        try:
            req = ocsp.OCSPRequest.load(request_der)
            req.native  # noqa: B018
        except Exception:
            return SimpleOCSPResponder.build_error_response("malformed_request").dump()
        responder = SimpleOCSPResponder(
            responder_cert=self._ocsp_cert, responder_key=self._ocsp_key,
            signature_algo=_SHA256_RSA, at_time=_issue_time(),
            revinfo_interface=_DevRevocation(self, self._int),
            validity=dt.timedelta(days=1),
        )
        return responder.build_ocsp_response(req).dump()

    # -- CRL -------------------------------------------------------------------------------
    def _crl(self, issuer: asn1_x509.Certificate, key: keys.PrivateKeyInfo, serials: set[int] | None) -> bytes:
        now = _issue_time()
        revoked = []
        for serial, when in sorted(self.pki.revoked().items()):
            if serials is not None and serial not in serials:
                continue
            revoked.append(CRLBuilder.format_revoked_cert(
                serial, asn1_crl.CRLReason("key_compromise"), when.replace(microsecond=0)))
        builder = CRLBuilder(
            issuer_name=issuer.subject, issuer_key=key, signature_algo=_SHA256_RSA,
            authority_key_identifier=issuer.key_identifier_value,
        )
        number = int(_now().timestamp())
        return builder.build_crl(number, now, now + dt.timedelta(days=1), revoked).dump()

    def crl(self) -> bytes:
        """DER CRL of the issuing (intermediate) CA: covers seal, personal, TSA certificates."""
        self._load()
        return self._crl(self._int, self._int_key, None)

    def root_crl(self) -> bytes:
        """DER CRL of the root (covers the intermediate)."""
        self._load()
        return self._crl(self._root, self._root_key, {self._int.serial_number})


_services: dict[str, DevServices] = {}
_services_lock = threading.Lock()


def services_for(pki: DevPki) -> DevServices:
    """The shared DevServices of ``pki`` (one per PKI folder)."""
    key = str(pki.pki_dir.resolve())
    with _services_lock:
        svc = _services.get(key)
        if svc is None or svc.pki is not pki:
            svc = _services[key] = DevServices(pki)
        return svc
