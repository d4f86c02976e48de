"""Wiring of the pyHanko signing adapter (:class:`signing.adapter.PyHankoSigning`) from
:class:`api.settings.Settings`: keys opened by ``certs``, the signer-certificate check, the
timestamper and the validation context.

With the development PKI and no ``IOFFICE_TSA_URL``, the TSA answers in-process and B-LT
revocation data (CRLs) comes from the development CA directly, so signing never needs the
service to call itself over HTTP.
"""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ioffice.kernel.errors import InvalidInput

from .trust import trust_roots

if TYPE_CHECKING:
    from signing.adapter import PyHankoSigning

    from .container import Container


def _dev_timestamper(services: Any) -> Any:
    """A pyHanko TimeStamper answering from the development TSA in-process."""
    from asn1crypto import tsp
    from pyhanko.sign.timestamps import TimeStamper

    class DevTimeStamper(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            return tsp.TimeStampResp.load(services.tsa_respond(req.dump()))

    return DevTimeStamper()  # type: ignore[no-untyped-call]  # pyHanko's TimeStamper.__init__ is unannotated


def build_signing(container: Container) -> PyHankoSigning:
    """The signing adapter for ``container`` (its settings and, when in use, its development PKI)."""
    from signing.adapter import PyHankoSigning

    settings = container.settings
    devpki = container.devpki
    in_process_dev = settings.tsa_url is None and devpki is not None

    def dev_services() -> Any:
        from certs.devservices import services_for

        assert devpki is not None  # only called when in_process_dev
        return services_for(devpki)

    def resolve_key(key_ref: str | None) -> str:
        if key_ref is None:
            key_ref = settings.seal_key or (str(devpki.seal_key_path) if devpki else None)
            if key_ref is None:
                raise InvalidInput("Chưa cấu hình khóa ký số của cơ quan (IOFFICE_SEAL_KEY).")
        if key_ref.startswith("devpki:"):
            if devpki is None:
                raise InvalidInput("Khóa ký phát triển không còn khả dụng (thiếu PKI phát triển).")
            username = key_ref.split(":", 1)[1]
            try:
                return str(devpki.personal_key_path(username))
            except KeyError:
                # issued at run time by another worker process (api.keystore.give_dev_certificate)
                path = devpki.pki_dir / "personal" / f"{username}.p12"
                if "/" in username or not path.is_file():
                    raise InvalidInput("Người dùng chưa được cấp khóa ký số.") from None
                return str(path)
        return key_ref

    def dev_chain() -> list[Any]:
        if devpki is None:
            return []
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives.serialization import Encoding

        return [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in devpki.chain]

    def open_key(key_ref: str) -> Any:
        from certs.keys import load_signer

        if key_ref.startswith("pkcs11:"):
            # a token often holds the leaf only: the development PKI's CAs complete the chain
            return load_signer(key_ref, module_path=settings.pkcs11_module, extra_certs=dev_chain())
        if settings.seal_key_passphrase and key_ref == settings.seal_key:
            passphrase = settings.seal_key_passphrase.encode()
        else:
            passphrase = settings.pki_passphrase  # the development PKI's keys, encrypted at rest
        return load_signer(key_ref, passphrase=passphrase)

    def check_signer(signer: Any) -> None:
        from certs.checks import check_prepared_signer

        roots = trust_roots(container)
        if in_process_dev:
            services = dev_services()
            check_prepared_signer(signer, trust_roots=roots, allow_fetching=False, revocation_mode="hard-fail",
                                  crls=[services.crl(), services.root_crl()])
        else:
            check_prepared_signer(signer, trust_roots=roots, revocation_mode="hard-fail")

    def timestamper() -> Any:
        from signing.engine import http_timestamper

        if settings.tsa_url:
            return http_timestamper(settings.tsa_url)
        if devpki is not None:
            return _dev_timestamper(dev_services())
        return None

    def validation_context() -> Any:
        from pyhanko_certvalidator import ValidationContext

        from signing.engine import make_validation_context

        roots = trust_roots(container)
        if in_process_dev:
            services = dev_services()

            def factory() -> ValidationContext:
                return ValidationContext(trust_roots=roots, crls=[services.crl(), services.root_crl()],
                                         allow_fetching=False, revocation_mode="hard-fail")

            return factory
        return make_validation_context(roots)

    if settings.signature_level:
        default_level = settings.signature_level
    else:
        default_level = "B-LT" if (settings.tsa_url or devpki is not None) else "B-B"
    def ca_chain() -> list[str]:
        if devpki is None:
            return []
        from cryptography.hazmat.primitives.serialization import Encoding

        return [c.public_bytes(Encoding.PEM).decode() for c in devpki.chain]

    return PyHankoSigning(resolve_key=resolve_key, open_key=open_key, check_signer=check_signer,
                          timestamper=timestamper, validation_context=validation_context,
                          tsa_url=settings.tsa_url, default_level=default_level, ca_chain=ca_chain)


def adapter(container: Container) -> PyHankoSigning:
    """The container's signing adapter (built on first use)."""
    return container.signing


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
