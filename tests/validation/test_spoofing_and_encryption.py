"""Signed encrypted PDFs, signature spoofing revisions and bytes appended after the last revision
(issue 9): a report for each, never a crash, and the right verdict."""
from __future__ import annotations

import io
import json

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import incremental, sign, signer_for, stream


def check(pdf: bytes, pki):
    return validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)


def _encrypted(user: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    w.encrypt(user_password=user, owner_password="chu-so-huu", algorithm="AES-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _sign_encrypted(pdf: bytes, pki, password: bytes) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    w.encrypt(password)
    return signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name="ChuKy1"),
                            signer=signer_for(pki, pki.signer)).getvalue()


@pytest.fixture(scope="module")
def encrypted_signed(pki) -> bytes:
    """Encrypted with an empty user password (opens without asking), then signed."""
    return _sign_encrypted(_encrypted(""), pki, b"chu-so-huu")


def test_signed_encrypted_pdf_is_validated(encrypted_signed, pki):
    rep = check(encrypted_signed, pki)
    assert rep.verdict == "valid", (rep.problems, [s.problems for s in rep.signatures])
    assert rep.trusted and rep.signatures[0].signer == "Nguyễn Văn Hùng"


def test_signed_encrypted_pdf_through_the_cli(encrypted_signed, pki, tmp_path, capsys):
    from api.cli_verify import main

    (tmp_path / "enc.pdf").write_bytes(encrypted_signed)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    code = main(["verify", str(tmp_path / "enc.pdf"), "--trust", str(tmp_path / "root.pem"),
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["verdict"]) == (0, "valid")


def test_signed_pdf_with_a_real_user_password_is_reported(pki, capsys, tmp_path):
    from api.cli_verify import main

    pdf = _sign_encrypted(_encrypted("mat-khau"), pki, b"chu-so-huu")
    rep = check(pdf, pki)
    assert rep.verdict == "unreadable" and any("mật khẩu" in p for p in rep.problems)
    (tmp_path / "pw.pdf").write_bytes(pdf)
    assert main(["verify", str(tmp_path / "pw.pdf")]) == 1
    assert "mật khẩu" in capsys.readouterr().out


def test_comment_on_a_signed_encrypted_pdf(encrypted_signed, pki):
    def edit(w):
        w.encrypt(b"chu-so-huu")
        page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
        w.register_annotation(page_ref, w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, [500, 700, 520, 720])),
            pdf_name("/Contents"): pdf_string("Đã xem")})))

    assert check(incremental(encrypted_signed, edit), pki).verdict == "valid_with_changes"


# -- signature spoofing --------------------------------------------------------------------

@pytest.fixture(scope="module")
def signed_visible(pki) -> bytes:
    return sign(make_pdf(), pki, visible=True)


def _fake_signature_field(pdf: bytes, value: dict | None) -> bytes:
    """A later revision adds a signature field whose widget is drawn like a signature stamp;
    with ``value``, its /V is a signature dictionary that holds no real signature."""

    def edit(w):
        page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
        ap = stream(w, b"0 0 1 RG 0 0 200 60 re S BT /Helv 10 Tf 5 30 Td (Ky boi: Giam doc) Tj ET",
                    {pdf_name("/Type"): pdf_name("/XObject"),
                     pdf_name("/Subtype"): pdf_name("/Form"),
                     pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject,
                                                                [0, 0, 200, 60]))})
        d = {pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
             pdf_name("/FT"): pdf_name("/Sig"), pdf_name("/T"): pdf_string("GiaMao"),
             pdf_name("/F"): generic.NumberObject(4), pdf_name("/P"): page_ref,
             pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, [60, 60, 260, 120])),
             pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap})}
        if value is not None:
            d[pdf_name("/V")] = w.add_object(generic.DictionaryObject(value))
        fld = w.add_object(generic.DictionaryObject(d))
        w.register_annotation(page_ref, fld)
        w.root["/AcroForm"]["/Fields"].append(fld)
        acro = w.root.raw_get("/AcroForm")
        if isinstance(acro, generic.IndirectObject):
            w.mark_update(acro)
        w.update_root()

    return incremental(pdf, edit)


_SIG = {pdf_name("/Type"): pdf_name("/Sig"), pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
        pdf_name("/SubFilter"): pdf_name("/ETSI.CAdES.detached")}


@pytest.mark.parametrize("value", [
    None, {}, _SIG,
    {**_SIG, pdf_name("/Contents"): generic.ByteStringObject(b"\x30\x03\x02\x01\x00"),
     pdf_name("/ByteRange"): generic.ArrayObject(map(generic.NumberObject, [0, 10, 20, 30]))},
], ids=["widget-only", "empty-value", "no-contents", "garbage-cms"])
def test_fake_signature_added_later_is_modified(signed_visible, pki, value):
    rep = check(_fake_signature_field(signed_visible, value), pki)
    assert rep.verdict == "modified", (rep.problems, rep.changes)
    assert rep.signatures[0].intact and rep.signatures[0].changes_after == "disallowed"
    assert rep.trusted is False or value is None


def test_stamp_annotation_drawn_like_a_signature(signed_visible, pki):
    def edit(w):
        page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
        ap = stream(w, b"1 0 0 RG 0 0 200 60 re S BT /Helv 10 Tf 5 30 Td (Da ky so) Tj ET",
                    {pdf_name("/Type"): pdf_name("/XObject"),
                     pdf_name("/Subtype"): pdf_name("/Form"),
                     pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject,
                                                                [0, 0, 200, 60]))})
        w.register_annotation(page_ref, w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Stamp"),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, [300, 200, 500, 260])),
            pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap})})))

    assert check(incremental(signed_visible, edit), pki).verdict == "modified"


# -- bytes after the last revision ---------------------------------------------------------

def test_padding_after_the_last_revision_is_reported(signed_visible, pki):
    rep = check(signed_visible + b"\x00" * 100_000, pki)
    assert rep.verdict == "valid_with_changes"
    assert any("100.000 byte" in p for p in rep.problems)


def test_short_line_ending_after_eof_is_normal(signed_visible, pki):
    assert check(signed_visible + b"\r\n", pki).verdict == "valid"


def test_garbage_after_the_last_revision_is_modified(signed_visible, pki):
    rep = check(signed_visible + b"\x00" * 1000 + b"1 0 obj << >> endobj", pki)
    assert rep.verdict == "modified"
    assert any("%%EOF" in p for p in rep.problems)
