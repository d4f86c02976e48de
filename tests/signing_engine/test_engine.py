"""Signing at every PAdES level, validated by pyHanko, pdfsig (NSS) and qpdf."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle

from certs.trust import load_trust_roots
from ioffice.kernel.errors import InvalidDocument, InvalidInput, ServiceUnavailable
from signing.engine import PreparedSigner, http_timestamper, issue_stamp, sign_pdf
from tests.support.pdfs import make_pdf

from .conftest import assert_interop


@dataclass
class Visible:
    page: int
    box: tuple
    stamp_style: object
    text_params: dict | None = None


def visible(page: int = 0) -> Visible:
    return Visible(page, (300, 80, 540, 160), TextStampStyle(stamp_text="Ký bởi: %(signer)s\n%(ts)s"))


@pytest.fixture(scope="module")
def signer(dev_env) -> PreparedSigner:
    return dev_env.signer("chutich")


@pytest.fixture(scope="module")
def seal(dev_env) -> PreparedSigner:
    return dev_env.signer()


def _validate_all(data: bytes, vc):
    r = PdfFileReader(io.BytesIO(data))
    return r, [validate_pdf_signature(s, vc) for s in r.embedded_signatures]


def test_b_b_visible_signature_is_valid_everywhere(dev_env, signer, nss_db, tmp_path, pdf_bytes):
    before = bytes(pdf_bytes)
    out = sign_pdf(pdf_bytes, signer=signer, appearance=visible())
    assert pdf_bytes == before
    assert out.startswith(pdf_bytes)  # incremental update
    r, statuses = _validate_all(out, dev_env.validation_context())
    (st,) = statuses
    assert st.intact and st.valid and st.trusted
    assert st.signing_cert.subject.native["common_name"] == "Nguyễn Văn Hùng"
    assert "/Sig" in str(r.embedded_signatures[0].sig_field["/FT"])
    path = tmp_path / "bb.pdf"
    path.write_bytes(out)
    assert_interop(path, nss_db, 1)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_levels_with_loopback_tsa_and_ocsp(level, dev_env, signer, nss_db, tmp_path, pdf_bytes):
    out = sign_pdf(pdf_bytes, signer=signer, level=level, appearance=visible(),
                   timestamper=dev_env.timestamper(), validation_context=dev_env.vc_factory())
    r = PdfFileReader(io.BytesIO(out))
    sig = r.embedded_regular_signatures[0]
    st = validate_pdf_signature(sig, dev_env.validation_context())
    assert st.intact and st.valid and st.trusted
    assert st.timestamp_validity is not None and st.timestamp_validity.valid
    if level in ("B-LT", "B-LTA"):
        dss = r.root["/DSS"]
        assert len(dss["/OCSPs"]) >= 1 or len(dss["/CRLs"]) >= 1
    if level == "B-LTA":
        assert len(r.embedded_timestamp_signatures) == 1
    path = tmp_path / f"{level}.pdf"
    path.write_bytes(out)
    # poppler 22 cannot verify RFC 3161 document timestamps ("Unimplemented Feature"); pyHanko
    # validated it above, pdfsig checks the signatures.
    assert_interop(path, nss_db, len(r.embedded_regular_signatures))


@pytest.mark.slow
def test_b_lt_validates_offline_from_embedded_data(dev_env, signer, pdf_bytes):
    out = sign_pdf(pdf_bytes, signer=signer, level="B-LT", timestamper=dev_env.timestamper(),
                   validation_context=dev_env.vc_factory())
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    r = PdfFileReader(io.BytesIO(out))
    dss = DocumentSecurityStore.read_dss(r)
    # offline, hard-fail: everything needed must be in the file
    vc = dss.as_validation_context({"trust_roots": load_trust_roots(dev_env.pki.root_pem_path),
                                    "allow_fetching": False, "revocation_mode": "hard-fail"})
    st = validate_pdf_signature(r.embedded_signatures[0], vc)
    assert st.valid and st.intact and st.trusted


def test_certify_then_seal_in_reserved_field_both_valid(dev_env, signer, seal, nss_db, tmp_path):
    from pyhanko.sign.diff_analysis import ModificationLevel

    pdf = make_pdf(1)
    first = sign_pdf(pdf, signer=signer, appearance=visible(), certify=True, field_name="ChuTich",
                     reserve_fields=[("DauCoQuan", 0, (200, 80, 320, 200))])
    second = sign_pdf(first, signer=seal, field_name="DauCoQuan",
                      appearance=Visible(0, (200, 80, 320, 200), TextStampStyle(stamp_text="Dấu")))
    # invisible + DSS: allowed too. (A different signer here: poppler 22.12 reports a spurious
    # "Unknown issue" for the 2nd signature of the *same* certificate in a certified document.)
    third = sign_pdf(second, signer=dev_env.signer("vanthu"), level="B-LT",
                     timestamper=dev_env.timestamper(), validation_context=dev_env.vc_factory())
    r, statuses = _validate_all(third, dev_env.validation_context())
    assert len(statuses) == 3
    for st in statuses:
        assert st.intact and st.valid and st.trusted
        assert st.docmdp_ok is not False
        assert st.modification_level <= ModificationLevel.FORM_FILLING
    path = tmp_path / "certified.pdf"
    path.write_bytes(third)
    assert_interop(path, nss_db, 3)


def test_approval_then_seal_with_new_visible_field_both_valid(dev_env, signer, seal, nss_db, tmp_path):
    from pyhanko.sign.diff_analysis import ModificationLevel

    first = sign_pdf(make_pdf(1), signer=signer, appearance=visible(), field_name="ChuTich")
    second = sign_pdf(first, signer=seal, field_name="DauCoQuan",
                      appearance=Visible(0, (200, 80, 320, 200), TextStampStyle(stamp_text="Dấu")))
    r, statuses = _validate_all(second, dev_env.validation_context())
    assert len(statuses) == 2
    for st in statuses:
        assert st.intact and st.valid and st.trusted and st.docmdp_ok is not False
        assert st.modification_level <= ModificationLevel.FORM_FILLING
    path = tmp_path / "two.pdf"
    path.write_bytes(second)
    assert_interop(path, nss_db, 2)


def test_issue_stamp_keeps_personal_signature_valid(dev_env, signer, seal, nss_db, tmp_path):
    signed = sign_pdf(make_pdf(1), signer=signer, appearance=visible())
    stamped = issue_stamp(signed, signer=seal, text="123/UBND-VP", box=(60, 700, 260, 730))
    stamped = issue_stamp(stamped, signer=seal, text="Yên Khánh, ngày 05 tháng 3 năm 2024",
                          box=(300, 700, 560, 730))
    r, statuses = _validate_all(stamped, dev_env.validation_context())
    assert len(statuses) == 3
    assert all(s.intact and s.valid and s.docmdp_ok is not False for s in statuses)
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamped)
    assert_interop(path, nss_db, 3)
    import subprocess

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    # stamps are signature appearances with an embedded font covering Vietnamese
    assert "123/UBND-VP" in text
    assert "Yên Khánh, ngày 05 tháng 3 năm 2024" in text


def test_certify_refused_on_signed_document(signer):
    once = sign_pdf(make_pdf(1), signer=signer)
    with pytest.raises(InvalidInput):
        sign_pdf(once, signer=signer, certify=True)


def test_not_a_pdf_is_refused(signer):
    with pytest.raises(InvalidDocument):
        sign_pdf(b"hello, not a pdf", signer=signer)


def test_tsa_down_gives_service_unavailable_and_leaves_input(signer, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(1))
    before = src.read_bytes()
    out = io.BytesIO(b"previous")
    out.seek(len(b"previous"))
    with open(src, "rb") as fh, pytest.raises(ServiceUnavailable) as ei:
        sign_pdf(fh, signer=signer, level="B-T", output=out,
                 timestamper=http_timestamper(f"http://127.0.0.1:{port}/tsa", timeout=1))
    assert "dấu thời gian" in ei.value.detail
    assert src.read_bytes() == before
    assert out.getvalue() == b"previous"


def test_streams_file_to_file(signer, tmp_path, dev_env):
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(3))
    dst = tmp_path / "out.pdf"
    with open(src, "rb") as fi, open(dst, "wb+") as fo:
        assert sign_pdf(fi, signer=signer, output=fo) is None
    _, (st,) = _validate_all(dst.read_bytes(), dev_env.validation_context())
    assert st.intact and st.valid


def test_prepared_signer_is_thread_safe(signer, dev_env):
    from concurrent.futures import ThreadPoolExecutor

    pdf = make_pdf(1)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: sign_pdf(pdf, signer=signer, appearance=visible()), range(8)))
    vc = dev_env.validation_context()
    for out in outs:
        _, (st,) = _validate_all(out, vc)
        assert st.intact and st.valid


@pytest.mark.slow
def test_revocation_service_down_gives_service_unavailable(dev_env, tmp_path):
    import dataclasses

    from certs.devpki import issue_signer_certificate

    dead = dataclasses.replace(dev_env.pki, base_url="http://127.0.0.1:9/dev-pki")
    key, cert = issue_signer_certificate(dead, common_name="Vũ Thị Mai", organization="UBND")
    signer = PreparedSigner.from_key_and_cert(key, cert, dev_env.pki.chain)
    pdf = make_pdf(1)
    before = bytes(pdf)
    with pytest.raises(ServiceUnavailable) as ei:
        sign_pdf(pdf, signer=signer, level="B-LT", timestamper=dev_env.timestamper(),
                 validation_context=dev_env.vc_factory(timeout=1))
    assert "OCSP/CRL" in ei.value.detail
    assert pdf == before


def test_usable_from_async_code(signer, dev_env):
    import asyncio

    from signing.engine import async_sign_pdf

    pdf = make_pdf(1)

    async def main():
        a = await async_sign_pdf(pdf, signer=signer)
        b = sign_pdf(pdf, signer=signer)  # sync call inside a running loop still works
        return a, b

    for out in asyncio.run(main()):
        _, (st,) = _validate_all(out, dev_env.validation_context())
        assert st.intact and st.valid


def test_ecdsa_p256_signer(dev_env, nss_db, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    from certs import devpki as dp

    ikey, icert = dev_env.pki.load_key(dev_env.pki.intermediate_key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = dp._build(subject=dp._name("Đỗ Thị Ngọc Ánh", "UBND huyện Yên Khánh"), key=key,
                     issuer=dp._Issuer(ikey, icert), days=30, ca=False,
                     key_usage={"digital_signature": True, "content_commitment": True},
                     ocsp_url=dev_env.pki.ocsp_url, crl_url=dev_env.pki.crl_url)
    signer = PreparedSigner.from_key_and_cert(key, cert, dev_env.pki.chain)
    out = sign_pdf(make_pdf(1), signer=signer, appearance=visible())
    _, (st,) = _validate_all(out, dev_env.validation_context())
    assert st.intact and st.valid and st.trusted
    path = tmp_path / "ec.pdf"
    path.write_bytes(out)
    assert_interop(path, nss_db, 1)
