"""Signatures whose cryptography is intact but legacy (issue 9): adbe.pkcs7.sha1, SHA-1 digests
and CMS with more than one SignerInfo are not ``invalid``; the weakness is a problem of trust."""
from __future__ import annotations

import asyncio
import hashlib

import pytest
from asn1crypto import cms
from pyhanko.sign.fields import SigSeedSubFilter

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import byte_range, sign, signer_for


def check(pdf: bytes, pki):
    return validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)


def _put_contents(pdf: bytes, der: bytes) -> bytes:
    _a, b, c, _d = byte_range(pdf)
    hexed = der.hex().encode()
    assert len(hexed) <= c - b - 2
    return pdf[:b + 1] + hexed + b"0" * (c - b - 2 - len(hexed)) + pdf[c - 1:]


def _signed_bytes(pdf: bytes) -> bytes:
    a, b, c, d = byte_range(pdf)
    return pdf[a:a + b] + pdf[c:c + d]


def _general(signer, data: bytes, *, detached: bool) -> cms.ContentInfo:
    return asyncio.run(signer.async_sign_general_data(data, "sha256", detached=detached))


@pytest.fixture(scope="module")
def layout(pki) -> bytes:
    """An adbe.pkcs7.detached signature whose /Contents we rewrite below."""
    return sign(make_pdf(), pki, subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
                bytes_reserved=16384)


def test_legacy_adbe_pkcs7_sha1_is_valid_but_not_trusted(layout, pki):
    pdf = layout.replace(b"/adbe.pkcs7.detached", b"/adbe.pkcs7.sha1    ", 1)
    digest = hashlib.sha1(_signed_bytes(pdf)).digest()
    pdf = _put_contents(pdf, _general(signer_for(pki, pki.signer), digest, detached=False).dump())
    rep = check(pdf, pki)
    assert rep.verdict == "valid", [s.problems for s in rep.signatures]
    s = rep.signatures[0]
    assert s.intact and s.valid and not s.trusted and rep.trusted is False
    assert s.subfilter == "adbe.pkcs7.sha1" and s.level is None
    assert any("SHA-1" in p for p in s.problems)
    # the same with one byte of the signed content changed: integrity fails
    tampered = pdf.replace(b"1.000.000", b"9.000.000", 1)
    assert check(tampered, pki).verdict == "invalid"


def test_cms_with_two_signer_infos_is_valid_but_not_trusted(layout, pki):
    data = _signed_bytes(layout)
    first = _general(signer_for(pki, pki.signer), data, detached=True)
    second = _general(signer_for(pki, pki.signer2), data, detached=True)
    sd = first["content"]
    sd["signer_infos"] = cms.SignerInfos([sd["signer_infos"][0], second["content"]["signer_infos"][0]])
    sd["certificates"] = cms.CertificateSet(
        list(sd["certificates"]) + list(second["content"]["certificates"]))
    pdf = _put_contents(layout, cms.ContentInfo({"content_type": "signed_data",
                                                 "content": sd}).dump())
    rep = check(pdf, pki)
    assert rep.verdict == "valid", [s.problems for s in rep.signatures]
    s = rep.signatures[0]
    assert s.intact and s.valid and not s.trusted
    assert s.signer in ("Nguyễn Văn Hùng", "Trần Thị Bình")  # a SET OF: DER orders it
    assert any("2 người ký" in p for p in s.problems)
    assert check(pdf.replace(b"1.000.000", b"9.000.000", 1), pki).verdict == "invalid"
