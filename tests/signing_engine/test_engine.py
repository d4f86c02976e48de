"""Signing at every PAdES level, validated by pyHanko, pdfsig (NSS) and qpdf."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle

from ioffice.errors import InvalidDocument, InvalidInput, ServiceUnavailable
from signing.engine import PreparedSigner, http_timestamper, issue_stamp, sign_pdf

from .conftest import PASSPHRASE, assert_interop, make_pdf


@dataclass
class Visible:
    page: int
    box: tuple
    stamp_style: object
    text_params: dict | None = None


def visible(page: int = 0) -> Visible:
    return Visible(page, (300, 80, 540, 160), TextStampStyle(stamp_text="Ký bởi: %(signer)s\n%(ts)s"))


@pytest.fixture(scope="module")
def signer(test_pki) -> PreparedSigner:
    return PreparedSigner.from_pkcs12(test_pki.p12("signer"), PASSPHRASE)


@pytest.fixture(scope="module")
def seal(test_pki) -> PreparedSigner:
    return PreparedSigner.from_pkcs12(test_pki.p12("seal"), PASSPHRASE)


def _validate_all(data: bytes, vc):
    r = PdfFileReader(io.BytesIO(data))
    return r, [validate_pdf_signature(s, vc) for s in r.embedded_signatures]


def test_b_b_visible_signature_is_valid_everywhere(test_pki, signer, nss_db, tmp_path, pdf_bytes):
    before = bytes(pdf_bytes)
    out = sign_pdf(pdf_bytes, signer=signer, appearance=visible())
    assert pdf_bytes == before
    assert out.startswith(pdf_bytes)  # incremental update
    r, statuses = _validate_all(out, test_pki.validation_context())
    (st,) = statuses
    assert st.intact and st.valid and st.trusted
    assert st.signing_cert.subject.native["common_name"] == "Nguyễn Văn Hùng"
    assert "/Sig" in str(r.embedded_signatures[0].sig_field["/FT"])
    path = tmp_path / "bb.pdf"
    path.write_bytes(out)
    assert_interop(path, nss_db, 1)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_levels_with_loopback_tsa_and_ocsp(level, test_pki, signer, nss_db, tmp_path, pdf_bytes):
    vc = test_pki.validation_context()
    out = sign_pdf(pdf_bytes, signer=signer, level=level, appearance=visible(),
                   timestamper=http_timestamper(test_pki.tsa_url), validation_context=vc)
    r = PdfFileReader(io.BytesIO(out))
    sig = r.embedded_regular_signatures[0]
    st = validate_pdf_signature(sig, test_pki.validation_context())
    assert st.intact and st.valid and st.trusted
    assert st.timestamp_validity is not None and st.timestamp_validity.valid
    if level in ("B-LT", "B-LTA"):
        dss = r.root["/DSS"]
        assert len(dss["/OCSPs"]) >= 1 or len(dss["/CRLs"]) >= 1
    if level == "B-LTA":
        assert len(r.embedded_timestamp_signatures) == 1
    path = tmp_path / f"{level}.pdf"
    path.write_bytes(out)
    out_text = __import__("tests.signing_engine.conftest", fromlist=["pdfsig"]).pdfsig(path, nss_db)
    assert "Signature is Valid" in out_text and "Certificate is Trusted" in out_text, out_text
    assert_interop(path, nss_db, len(r.embedded_signatures))


@pytest.mark.slow
def test_b_lt_validates_offline_from_embedded_data(test_pki, signer, pdf_bytes):
    out = sign_pdf(pdf_bytes, signer=signer, level="B-LT",
                   timestamper=http_timestamper(test_pki.tsa_url),
                   validation_context=test_pki.validation_context())
    from pyhanko.sign.validation import validate_pdf_ltv_signature, RevocationInfoValidationType

    r = PdfFileReader(io.BytesIO(out))
    st = validate_pdf_ltv_signature(
        r.embedded_signatures[0], RevocationInfoValidationType.PADES_LT,
        validation_context_kwargs={"trust_roots": [test_pki.cert("root")], "allow_fetching": False},
    )
    assert st.valid and st.intact and st.trusted


def test_two_signatures_certify_then_seal_both_valid(test_pki, signer, seal, nss_db, tmp_path):
    pdf = make_pdf(1)
    first = sign_pdf(pdf, signer=signer, appearance=visible(), certify=True, field_name="ChuTich")
    second = sign_pdf(first, signer=seal, appearance=Visible(0, (200, 80, 320, 200),
                                                             TextStampStyle(stamp_text="Dấu")),
                      field_name="DauCoQuan")
    r, statuses = _validate_all(second, test_pki.validation_context())
    assert len(statuses) == 2
    for st in statuses:
        assert st.intact and st.valid and st.trusted
        assert st.docmdp_ok is not False
    from pyhanko.sign.diff_analysis import ModificationLevel

    assert statuses[0].modification_level <= ModificationLevel.FORM_FILLING
    path = tmp_path / "two.pdf"
    path.write_bytes(second)
    assert_interop(path, nss_db, 2)


def test_issue_stamp_keeps_personal_signature_valid(test_pki, signer, seal, nss_db, tmp_path):
    signed = sign_pdf(make_pdf(1), signer=signer, appearance=visible(), certify=True)
    stamped = issue_stamp(signed, signer=seal, text="123/UBND-VP", box=(60, 700, 260, 730))
    stamped = issue_stamp(stamped, signer=seal, text="Yên Khánh, ngày 05 tháng 3 năm 2024",
                          box=(300, 700, 560, 730))
    r, statuses = _validate_all(stamped, test_pki.validation_context())
    assert len(statuses) == 3 and all(s.intact and s.valid for s in statuses)
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamped)
    assert_interop(path, nss_db, 3)
    import subprocess

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    # the stamp is an annotation appearance; the page text itself is unchanged
    assert "Quyết định" in text


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


def test_streams_file_to_file(signer, tmp_path, test_pki):
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(3))
    dst = tmp_path / "out.pdf"
    with open(src, "rb") as fi, open(dst, "wb+") as fo:
        assert sign_pdf(fi, signer=signer, output=fo) is None
    _, (st,) = _validate_all(dst.read_bytes(), test_pki.validation_context())
    assert st.intact and st.valid


def test_prepared_signer_is_thread_safe(signer, test_pki):
    from concurrent.futures import ThreadPoolExecutor

    pdf = make_pdf(1)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: sign_pdf(pdf, signer=signer, appearance=visible()), range(8)))
    vc = test_pki.validation_context()
    for out in outs:
        _, (st,) = _validate_all(out, vc)
        assert st.intact and st.valid
