"""Pre-signing certificate checks against a certomancer PKI with real OCSP/CRL on loopback."""
from __future__ import annotations

import datetime as dt

import pytest

from certs.checks import check_prepared_signer, check_signer_certificate
from ioffice.kernel.errors import ServiceUnavailable
from signing.errors import SignerCertificateRejected


def _check(test_pki, label: str, **kw):
    return check_signer_certificate(
        test_pki.cert(label), [test_pki.cert("interm")], trust_roots=[test_pki.cert("root")], **kw
    )


def test_good_signer_passes_with_hard_fail_revocation(test_pki):
    _check(test_pki, "signer", revocation_mode="hard-fail")


def test_revoked_signer_is_refused_naming_the_reason(test_pki):
    with pytest.raises(SignerCertificateRejected) as ei:
        _check(test_pki, "signer-revoked", revocation_mode="hard-fail")
    assert ei.value.extra["reason"] == "revoked"
    assert "đã bị thu hồi từ ngày 01/01/2024" in ei.value.detail
    assert ei.value.status == 422


def test_expired_signer_is_refused_with_the_date(test_pki):
    with pytest.raises(SignerCertificateRejected) as ei:
        _check(test_pki, "signer-expired")
    assert ei.value.extra["reason"] == "expired"
    assert "đã hết hạn ngày 01/01/2022" in ei.value.detail


def test_not_yet_valid(test_pki):
    with pytest.raises(SignerCertificateRejected) as ei:
        _check(test_pki, "signer", now=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    assert ei.value.extra["reason"] == "not-yet-valid"


def test_key_usage_without_signing_is_refused(test_pki):
    with pytest.raises(SignerCertificateRejected) as ei:
        _check(test_pki, "signer-nokeyusage")
    assert ei.value.extra["reason"] == "key-usage"


def test_untrusted_root_is_refused(test_pki, dev_env):
    with pytest.raises(SignerCertificateRejected) as ei:
        check_signer_certificate(test_pki.cert("signer"), [test_pki.cert("interm")],
                                 trust_roots=[dev_env.pki.root_cert])
    assert ei.value.extra["reason"] == "untrusted"


def test_prepared_signer_and_dev_pki_revocation(dev_env):
    """The dev PKI's own OCSP/CRL (served by api.routes.devpki) report a revocation."""
    from certs.devpki import issue_signer_certificate

    signer = dev_env.signer("vanthu")
    check_prepared_signer(signer, trust_roots=[dev_env.pki.root_cert], revocation_mode="hard-fail")
    _, cert = issue_signer_certificate(dev_env.pki, common_name="Hoàng Văn Tạm",
                                       organization="UBND huyện Yên Khánh")
    dev_env.pki.revoke(cert)
    with pytest.raises(SignerCertificateRejected) as ei:
        check_signer_certificate(cert, dev_env.pki.chain, trust_roots=[dev_env.pki.root_cert],
                                 revocation_mode="hard-fail")
    assert ei.value.extra["reason"] == "revoked"


def test_unreachable_revocation_service_in_hard_fail_mode(dev_env):
    import dataclasses

    from certs.devpki import issue_signer_certificate

    # a certificate whose OCSP/CRL URLs point at a closed port
    dead = dataclasses.replace(dev_env.pki, base_url="http://127.0.0.1:9/dev-pki")
    _, cert = issue_signer_certificate(dead, common_name="Vũ Thị Mai", organization="UBND")
    with pytest.raises(ServiceUnavailable):
        check_signer_certificate(cert, dev_env.pki.chain, trust_roots=[dev_env.pki.root_cert],
                                 revocation_mode="hard-fail")
    # soft-fail lets it through
    check_signer_certificate(cert, dev_env.pki.chain, trust_roots=[dev_env.pki.root_cert],
                             revocation_mode="soft-fail")
