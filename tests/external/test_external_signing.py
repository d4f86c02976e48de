"""External signing round trips with a SoftHSM2 token and the reference client running in a
separate process, validated with pyHanko, pdfsig and qpdf."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ioffice.kernel.errors import Conflict, InvalidInput
from signing.external import (
    InvalidExternalSignature,
    PreparedDocumentChanged,
    SignerCertificateRejected,
    SigningSessionExpired,
    complete_external_signature,
    prepare_external_signature,
)
from tests.support.pdfs import make_pdf

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)


def pem_chain(pki) -> list[str]:
    return [pki.ca.public_bytes(serialization.Encoding.PEM).decode()]


def roundtrip_state(state: dict) -> dict:
    """What the API layer does: persist the state as JSON and read it back."""
    return json.loads(json.dumps(state))


def validate_all(signed: bytes, vc_factory) -> list:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    reader = PdfFileReader(BytesIO(signed))
    statuses = [validate_pdf_signature(s, vc_factory()) for s in reader.embedded_signatures]
    assert statuses, "no signature found"
    return statuses


def assert_valid(status, signer_cn: str) -> None:
    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.bottom_line, status.pretty_print_details()
    assert status.signing_cert.subject.native["common_name"] == signer_cn


def product_report(signed: bytes, pki):
    """The product's own validation engine (what citizens and `ioffice verify` see)."""
    from signing.validation import validate_pdf

    return validate_pdf(signed, trust_roots=[pki.root], other_certs=[pki.ca], isolate=False)


def check_with_poppler_and_qpdf(signed: bytes, tmp_path: Path, nss_db: Path, count: int) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    sig = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss_db}", str(path)],
                         capture_output=True, text=True)
    assert sig.returncode == 0, sig.stdout + sig.stderr
    assert sig.stdout.count("Signature Validation: Signature is Valid.") == count, sig.stdout
    assert sig.stdout.count("Certificate Validation: Certificate is Trusted.") == count, sig.stdout
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout
    return sig.stdout


@pytest.fixture(scope="module")
def exported_cert(token, tmp_path_factory) -> bytes:
    """The signer certificate and chain as the client exports them from the token (PEM)."""
    out = tmp_path_factory.mktemp("export") / "signer.pem"
    token.run_client("--export-cert", str(out), "--key-label", "signer")
    return out.read_bytes()


@pytest.fixture(scope="module")
def signed_session(token, pki, tmp_path_factory):
    """One prepared session (at T0) and the token's genuine signature for it."""
    session = prepare_external_signature(
        make_pdf(), signer_cert=token.certs["signer"], chain=[pki.ca], now=T0
    )
    signature = token.sign_offline(tmp_path_factory.mktemp("sig"), session, "signer")
    return session, signature


# ---------------------------------------------------------------------------- round trips
@pytest.mark.slow
def test_token_round_trip_in_separate_process_validates_everywhere(
    token, pki, exported_cert, tmp_path, nss_db, validation_context_factory
):
    from pyhanko.pdf_utils.reader import PdfFileReader

    # the client exported exactly the token's certificate followed by its issuer
    pems = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?",
                      exported_cert, re.S)
    assert pems[0].strip() == token.certs["signer"].public_bytes(serialization.Encoding.PEM).strip()
    assert pems[1].strip() == pki.ca.public_bytes(serialization.Encoding.PEM).strip()

    original = make_pdf(pages=2)
    session = prepare_external_signature(original, signer_cert=pems[0], chain=pems[1:])
    assert session.digest_algorithm == "sha256"
    assert session.signature_mechanism == "sha256_rsa"
    assert session.prepared_pdf.startswith(original)  # incremental update, original untouched
    state = roundtrip_state(session.state)

    signature = token.sign_offline(tmp_path, session, "signer")
    signed = complete_external_signature(session.prepared_pdf, state, signature)

    assert signed.startswith(original)
    (status,) = validate_all(signed, validation_context_factory)
    assert_valid(status, "Nguyễn Văn Chủ Tịch")
    assert status.coverage.name == "ENTIRE_FILE"
    embedded = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    assert embedded.field_name == session.state["field_name"]
    # the CMS carries the signer certificate and its chain
    embedded_certs = {c.chosen.subject.native["common_name"]
                      for c in embedded.signed_data["certificates"]}
    assert {"Nguyễn Văn Chủ Tịch", "ioffice Test Issuing CA"} <= embedded_certs
    check_with_poppler_and_qpdf(signed, tmp_path, nss_db, count=1)


@pytest.mark.slow
def test_timestamp_and_dss_give_b_lt(
    token, pki, tmp_path, nss_db, timestamper, validation_context_factory
):
    from pyhanko.pdf_utils.reader import PdfFileReader

    session = prepare_external_signature(make_pdf(), signer_cert=token.certs["signer"],
                                         chain=[pki.ca])
    signature = token.sign_offline(tmp_path, session, "signer")
    signed = complete_external_signature(
        session.prepared_pdf, roundtrip_state(session.state), signature,
        timestamper=timestamper, embed_validation_info=True,
        validation_context=validation_context_factory,  # a factory is accepted too
    )
    (status,) = validate_all(signed, validation_context_factory)
    assert_valid(status, "Nguyễn Văn Chủ Tịch")
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
    reader = PdfFileReader(BytesIO(signed))
    assert "/DSS" in reader.root  # validation data in a later revision
    assert status.modification_level.name in ("NONE", "LTA_UPDATES")
    check_with_poppler_and_qpdf(signed, tmp_path, nss_db, count=1)
    report = product_report(signed, pki)
    assert report.verdict == "valid" and report.trusted, report.to_dict()
    assert report.signatures[0].level == "B-LT", report.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("key_label,prefer_pss,mechanism", [
    ("ec", False, "sha256_ecdsa"),
    ("signer", True, "rsassa_pss"),
])
def test_ecdsa_and_pss_on_the_token(
    token, pki, tmp_path, nss_db, validation_context_factory, key_label, prefer_pss, mechanism
):
    session = prepare_external_signature(make_pdf(), signer_cert=token.certs[key_label],
                                         chain=[pki.ca], prefer_pss=prefer_pss)
    assert session.signature_mechanism == mechanism
    signature = token.sign_offline(tmp_path, session, key_label)
    signed = complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                         signature)
    (status,) = validate_all(signed, validation_context_factory)
    assert status.intact and status.valid and status.trusted
    assert status.md_algorithm == "sha256"
    assert status.pkcs7_signature_mechanism == mechanism
    check_with_poppler_and_qpdf(signed, tmp_path, nss_db, count=1)


@pytest.mark.slow
def test_second_external_signature_keeps_the_first_valid(
    token, pki, tmp_path, nss_db, validation_context_factory
):
    first = prepare_external_signature(make_pdf(), signer_cert=token.certs["signer"],
                                       chain=[pki.ca])
    once = complete_external_signature(first.prepared_pdf, roundtrip_state(first.state),
                                       token.sign_offline(tmp_path, first, "signer"))
    second = prepare_external_signature(once, signer_cert=token.certs["ec"], chain=[pki.ca])
    assert second.state["field_name"] != first.state["field_name"]
    twice = complete_external_signature(second.prepared_pdf, roundtrip_state(second.state),
                                        token.sign_offline(tmp_path, second, "ec"))
    assert twice.startswith(once)
    s1, s2 = validate_all(twice, validation_context_factory)
    assert_valid(s1, "Nguyễn Văn Chủ Tịch")
    assert_valid(s2, "Lê Văn Ký")
    assert s1.coverage.name == "ENTIRE_REVISION"
    assert s1.docmdp_ok
    assert s2.coverage.name == "ENTIRE_FILE"
    check_with_poppler_and_qpdf(twice, tmp_path, nss_db, count=2)
    report = product_report(twice, pki)
    assert report.verdict == "valid" and report.trusted, report.to_dict()
    assert [s.signer for s in report.signatures] == ["Nguyễn Văn Chủ Tịch", "Lê Văn Ký"]
    assert [s.level for s in report.signatures] == ["B-B", "B-B"]


def test_visible_appearance_is_passed_through(token, pki, tmp_path, signed_session):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.stamp import TextStampStyle

    @dataclass
    class Visible:
        page: int
        box: tuple
        stamp_style: object
        text_params: dict | None

    appearance = Visible(0, (350, 80, 550, 160),
                         TextStampStyle(stamp_text="Ký bởi: %(signer)s\n%(note)s"),
                         {"note": "chuyen vien"})
    session = prepare_external_signature(make_pdf(), signer_cert=token.certs["signer"],
                                         chain=[pki.ca], field_name="ChuKyLanhDao",
                                         appearance=appearance)
    signed = complete_external_signature(session.prepared_pdf, session.state,
                                         token.sign_offline(tmp_path, session, "signer"))
    sig = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    assert sig.field_name == "ChuKyLanhDao"
    rect = [float(x) for x in sig.sig_field["/Rect"]]
    assert rect == [350, 80, 550, 160]
    assert "/AP" in sig.sig_field


# ------------------------------------------------------------------------------- refusals
def test_expired_session_is_refused(signed_session):
    session, signature = signed_session
    with pytest.raises(SigningSessionExpired) as err:
        complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                    signature, now=T0 + dt.timedelta(minutes=16))
    assert isinstance(err.value, Conflict)
    assert err.value.detail.startswith("Phiên ký đã hết hạn")
    # the same signature within the session's lifetime is accepted
    assert complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                       signature, now=T0 + dt.timedelta(minutes=14))


def test_prepared_pdf_that_changed_is_refused(signed_session):
    session, signature = signed_session
    tampered = bytearray(session.prepared_pdf)
    idx = tampered.index(b"trang 1") if b"trang 1" in tampered else 200
    tampered[idx] ^= 0x01
    for changed in (bytes(tampered), session.prepared_pdf + b"\n%extra\n"):
        with pytest.raises(PreparedDocumentChanged) as err:
            complete_external_signature(changed, roundtrip_state(session.state), signature,
                                        now=T0)
        assert isinstance(err.value, Conflict)
        assert "thay đổi" in err.value.detail


def test_signature_from_another_key_is_refused(token, signed_session, tmp_path):
    session, _ = signed_session
    wrong = token.sign_offline(tmp_path, session, "other")
    with pytest.raises(InvalidExternalSignature) as err:
        complete_external_signature(session.prepared_pdf, roundtrip_state(session.state), wrong,
                                    now=T0)
    assert isinstance(err.value, InvalidInput)
    assert "không khớp" in err.value.detail


@pytest.mark.parametrize("garbage", [b"\x00" * 256, b"not a signature", b""])
def test_garbage_signature_is_refused(signed_session, garbage):
    session, _ = signed_session
    with pytest.raises(InvalidExternalSignature):
        complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                    garbage, now=T0)


def test_signature_over_other_data_is_refused(signed_session, tmp_path, token, pki):
    """A genuine token signature for a different session does not complete this one."""
    session, _ = signed_session
    other = prepare_external_signature(make_pdf(text="Văn bản khác"),
                                       signer_cert=token.certs["signer"], chain=[pki.ca], now=T0)
    other_sig = token.sign_offline(tmp_path, other, "signer")
    with pytest.raises(InvalidExternalSignature):
        complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                    other_sig, now=T0)


def test_expired_or_unsuitable_certificate_is_refused_at_prepare(pki):
    key = rsa.generate_private_key(65537, 2048)
    expired = pki.issue("Hết Hạn", key.public_key(),
                        not_before=T0 - dt.timedelta(days=400),
                        not_after=T0 - dt.timedelta(days=1))
    with pytest.raises(SignerCertificateRejected) as err:
        prepare_external_signature(make_pdf(), signer_cert=expired, chain=[pki.ca])
    assert "hết hạn" in err.value.detail
    with pytest.raises(SignerCertificateRejected):  # key usage: encipherment only, no signing
        prepare_external_signature(make_pdf(), signer_cert=pki.pki.identity(
            "signer-nokeyusage").cert, chain=[pki.ca])
    with pytest.raises(SignerCertificateRejected):
        prepare_external_signature(make_pdf(), signer_cert=b"garbage")


def test_not_a_pdf_is_refused(token):
    from ioffice.kernel.errors import InvalidDocument

    with pytest.raises(InvalidDocument):
        prepare_external_signature(b"hello, not a pdf", signer_cert=token.certs["signer"])


# A CRL made here: it revokes a certificate issued in the test (for a fresh key) at a chosen time;
# certomancer only revokes certificates named in its config.
def _crl(pki, revoked_serials=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    b = (x509.CertificateRevocationListBuilder().issuer_name(pki.ca.subject)
         .last_update(T0 - dt.timedelta(hours=1)).next_update(T0 + dt.timedelta(days=7)))
    for serial in revoked_serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(T0 - dt.timedelta(minutes=30)).build())
    return b.sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_revoked_or_untrusted_certificate_is_refused_at_prepare(pki):
    from pyhanko_certvalidator import ValidationContext

    key = rsa.generate_private_key(65537, 2048)
    cert = pki.issue("Bị Thu Hồi", key.public_key(), crl_url="http://127.0.0.1:9/ca.crl")
    from .conftest import to_asn1

    root_crl = pki.crls()[1]  # the issuing CA's certificate points to the root's CRL

    def vc(crls):
        return ValidationContext(trust_roots=[to_asn1(pki.root)], other_certs=[to_asn1(pki.ca)],
                                 crls=[*crls, root_crl], allow_fetching=False,
                                 revocation_mode="hard-fail")

    with pytest.raises(SignerCertificateRejected) as err:
        prepare_external_signature(make_pdf(), signer_cert=cert, chain=[pki.ca],
                                   validation_context=vc([_crl(pki, [cert.serial_number])]))
    assert "thu hồi" in err.value.detail
    # the same certificate with a clean CRL passes
    ok = prepare_external_signature(make_pdf(), signer_cert=cert, chain=[pki.ca],
                                    validation_context=vc([_crl(pki)]))
    assert ok.data_to_sign
    # a validation context that does not trust our root refuses
    stranger = pki.other_root
    with pytest.raises(SignerCertificateRejected) as err:
        prepare_external_signature(
            make_pdf(), signer_cert=cert, chain=[pki.ca],
            validation_context=ValidationContext(trust_roots=[to_asn1(stranger)],
                                                 allow_fetching=False))
    assert "tin cậy" in err.value.detail


def test_timestamp_service_down_gives_clear_error_and_no_document(signed_session):
    from ioffice.kernel.errors import ServiceUnavailable

    session, signature = signed_session
    state = roundtrip_state(session.state)
    state["timestamp_url"] = "http://127.0.0.1:9/tsa"  # nothing listens there
    with pytest.raises(ServiceUnavailable) as err:
        complete_external_signature(session.prepared_pdf, state, signature, now=T0)
    assert "dấu thời gian" in err.value.detail


def test_completing_twice_gives_the_same_bytes(signed_session):
    """A retried completion (same stored session, same signature) yields the same document,
    so the API layer can answer a retried request with the version it already created."""
    session, signature = signed_session
    a = complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                    signature, now=T0)
    b = complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                    signature, now=T0 + dt.timedelta(minutes=1))
    assert a == b


def test_sync_entry_points_work_inside_a_running_event_loop(signed_session, token, pki):
    """An async route calling the sync functions gets a result, not 'asyncio.run() cannot be
    called from a running event loop'."""
    import asyncio

    session, signature = signed_session

    async def route():
        prepared = prepare_external_signature(make_pdf(), signer_cert=token.certs["signer"],
                                              chain=[pki.ca])
        signed = complete_external_signature(session.prepared_pdf,
                                             roundtrip_state(session.state), signature, now=T0)
        return prepared, signed

    prepared, signed = asyncio.run(route())
    assert prepared.data_to_sign and signed.startswith(session.prepared_pdf[:100])


@pytest.mark.slow
def test_decree_30_personal_appearance_from_signing_appearance(token, pki, tmp_path, nss_db):
    """The visible personal signature of signing.appearance goes through external signing:
    the page shows the signer's name with diacritics and the signature stays valid."""
    from signing.appearance import personal_signature

    appearance = personal_signature(position="Chủ tịch", full_name="Nguyễn Văn Chủ Tịch",
                                    authority="KT.")
    session = prepare_external_signature(make_pdf(), signer_cert=token.certs["signer"],
                                         chain=[pki.ca], appearance=appearance)
    signed = complete_external_signature(session.prepared_pdf, roundtrip_state(session.state),
                                         token.sign_offline(tmp_path, session, "signer"))
    check_with_poppler_and_qpdf(signed, tmp_path, nss_db, count=1)
    text = subprocess.run(["pdftotext", str(tmp_path / "signed.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Nguyễn Văn Chủ Tịch" in text
    report = product_report(signed, pki)
    assert report.verdict == "valid" and report.trusted, report.to_dict()
