"""Genuine later revisions that EU DSS and Adobe accept (issue 9), next to the attacks that look
like them. Each genuine document is signed with pyHanko and its later revision written with
pyHanko's incremental writer, as a viewer or an LTV tool would."""
from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator import ValidationContext

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import MDPPerm, incremental, sign, stream, timestamper


def check(pdf: bytes, pki):
    return validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)


def _vc(pki):
    return ValidationContext(trust_roots=[pki.root.asn1_cert], crls=pki.asn1_crls,
                             allow_fetching=False, revocation_mode="soft-fail")


def _form_xobject(w, data: bytes, box):
    return stream(w, data, {
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject(map(generic.FloatObject, box))})


def add_annot(pdf: bytes, subtype: str, rect, appearance: bytes | None = None,
              extra: dict | None = None) -> bytes:
    def edit(w):
        page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
        annot = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name(subtype),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, rect)),
            pdf_name("/Contents"): pdf_string("Ghi chú của người đọc")})
        for k, v in (extra or {}).items():
            annot[pdf_name(k)] = v(w) if callable(v) else v
        if appearance is not None:
            annot[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _form_xobject(
                w, appearance, [0, 0, rect[2] - rect[0], rect[3] - rect[1]])})
        w.register_annotation(page_ref, w.add_object(annot))

    return incremental(pdf, edit)


@pytest.fixture(scope="module")
def plain() -> bytes:
    return make_pdf()


@pytest.fixture(scope="module")
def signed(plain, pki) -> bytes:
    return sign(plain, pki, tsa=True)


# -- validation data and document timestamps ------------------------------------------------

def test_dss_added_after_signing_without_timestamp(signed, pki):
    """An LTV tool adds the validation data (DSS with CRL and certificates) in a later revision."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    out = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(out, None, crls=pki.asn1_crls,
                                  certs=[pki.intermediate.asn1_cert, pki.root.asn1_cert])
    rep = check(out.getvalue(), pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)
    assert rep.signatures[0].level == "B-LT"


def test_several_rounds_of_archive_timestamps(signed, pki):
    """B-LTA, then two more rounds of DSS + document timestamp (archive renewal)."""
    pdf = sign(signed, pki, who=pki.signer2, field="ChuKy2", lta=True)
    ts = signers.PdfTimeStamper(timestamper(pki))
    for _ in range(2):
        out = io.BytesIO()
        ts.update_archival_timestamp_chain(PdfFileReader(io.BytesIO(pdf), strict=False), _vc(pki),
                                           in_place=False, output=out)
        pdf = out.getvalue()
    rep = check(pdf, pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)
    assert [s.kind for s in rep.signatures].count("document_timestamp") == 3
    assert all(s.changes_after == "none" for s in rep.signatures)
    assert next(s for s in rep.signatures if s.field == "ChuKy2").level == "B-LTA"


def test_document_timestamp_after_certification_p1(plain, pki):
    """Validation data and document timestamps are allowed even under DocMDP P=1."""
    certified = sign(plain, pki, certify=True, docmdp=MDPPerm.NO_CHANGES, tsa=True)
    out = io.BytesIO()
    signers.PdfTimeStamper(timestamper(pki)).update_archival_timestamp_chain(
        PdfFileReader(io.BytesIO(certified), strict=False), _vc(pki), in_place=False,
        output=out)
    rep = check(out.getvalue(), pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)


# -- annotations ---------------------------------------------------------------------------

STROKE = b"1 0 0 RG 2 w 1 1 58 18 re S"


@pytest.mark.parametrize("subtype", ["/Square", "/Circle", "/Ink", "/Line", "/Highlight"])
def test_markup_annotation_after_signing(signed, pki, subtype):
    rep = check(add_annot(signed, subtype, [400, 600, 460, 620], STROKE), pki)
    assert rep.verdict == "valid_with_changes", (rep.changes, rep.problems)
    assert any(subtype[1:] in c for c in rep.changes)


def test_second_annotation_with_the_same_border(plain, pki):
    """An annotation present when signing; a reader adds a second one that shares its (indirect)
    /Border array and its appearance stream."""
    border = {}

    def first(w):
        border["ref"] = w.add_object(generic.ArrayObject(map(generic.NumberObject, [0, 0, 1])))
        return border["ref"]

    base = add_annot(plain, "/Square", [100, 600, 160, 620], STROKE, {"/Border": first})
    signed_ = sign(base, pki)
    r = PdfFileReader(io.BytesIO(signed_), strict=False)
    annot0 = r.root["/Pages"]["/Kids"][0]["/Annots"][0]
    bref = annot0.raw_get("/Border")
    pdf = add_annot(signed_, "/Square", [300, 600, 360, 620], STROKE,
                    {"/Border": lambda w: generic.IndirectObject(bref.idnum, bref.generation, w)})
    rep = check(pdf, pki)
    assert rep.verdict == "valid_with_changes", (rep.changes, rep.problems)


@pytest.mark.parametrize("subtype,ap", [
    ("/Square", b"1 1 1 rg 0 0 60 20 re f"),
    ("/FreeText", b"1 1 1 rg 0 0 60 20 re f 0 g BT /Helv 10 Tf 2 6 Td (9.000.000) Tj ET"),
    ("/Stamp", b"1 0 0 RG 0 0 60 20 re S BT /Helv 8 Tf 2 6 Td (DA KY SO) Tj ET"),
    ("/Ink", b"q 1 1 1 rg 0 0 60 20 re f Q"),
], ids=["opaque-square", "freetext", "stamp", "filled-ink"])
def test_markup_that_paints_over_content_is_refused(signed, pki, subtype, ap):
    """Shadow 'hide' through a small markup annotation that fills or writes text."""
    rep = check(add_annot(signed, subtype, [72, 735, 132, 755], ap), pki)
    assert rep.verdict == "modified", (rep.changes, rep.problems)


# -- forms and signature fields ------------------------------------------------------------

def _with_empty_sig_fields(pdf: bytes, names) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for i, n in enumerate(names):
        fields.append_signature_field(w, fields.SigFieldSpec(
            n, box=(60 + 200 * i, 60, 240 + 200 * i, 120)))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_form_filled_after_approval_signature(pki):
    from .test_verdicts import _fill_field

    signed_ = sign(make_pdf(with_form=True), pki)
    rep = check(_fill_field(signed_, "Da nhan"), pki)
    assert rep.verdict == "valid_with_changes", (rep.changes, rep.problems)


def test_second_prepared_signature_field_signed_later(plain, pki):
    pdf = _with_empty_sig_fields(plain, ["ChuKy1", "ChuKy2"])
    first = sign(pdf, pki, field="ChuKy1")
    assert check(first, pki).verdict == "valid"
    both = sign(first, pki, who=pki.signer2, field="ChuKy2")
    rep = check(both, pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)


@pytest.mark.parametrize("perm", [MDPPerm.FILL_FORMS, MDPPerm.ANNOTATE])
def test_prepared_field_signed_after_certification(plain, pki, perm):
    pdf = _with_empty_sig_fields(plain, ["ChuKy1", "ChuKy2"])
    certified = sign(pdf, pki, field="ChuKy1", certify=True, docmdp=perm)
    rep = check(sign(certified, pki, who=pki.signer2, field="ChuKy2"), pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)


def test_prepared_field_signed_after_certification_p1_is_refused(plain, pki, monkeypatch):
    """Under P=1 even a prepared field may not be signed (a tool that ignores DocMDP)."""
    import pyhanko.sign.validation as pv

    pdf = _with_empty_sig_fields(plain, ["ChuKy1", "ChuKy2"])
    certified = sign(pdf, pki, field="ChuKy1", certify=True, docmdp=MDPPerm.NO_CHANGES)
    monkeypatch.setattr(pv, "read_certification_data", lambda reader: None)
    assert check(sign(certified, pki, who=pki.signer2, field="ChuKy2"), pki).verdict == "modified"


@pytest.mark.parametrize("perm", [MDPPerm.NO_CHANGES, MDPPerm.FILL_FORMS, MDPPerm.ANNOTATE])
def test_certified_without_change_is_valid(plain, pki, perm):
    rep = check(sign(plain, pki, certify=True, docmdp=perm), pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)
    assert rep.signatures[0].certified and rep.signatures[0].docmdp == perm.value


def test_annotation_after_certification_p1_is_refused(plain, pki):
    certified = sign(plain, pki, certify=True, docmdp=MDPPerm.NO_CHANGES)
    rep = check(add_annot(certified, "/Text", [500, 700, 520, 720]), pki)
    assert rep.verdict == "modified"


# -- housekeeping --------------------------------------------------------------------------

def _root_edit(pdf: bytes, fn) -> bytes:
    def edit(w):
        fn(w)
        w.update_root()

    return incremental(pdf, edit)


def _xmp(w):
    w.root[pdf_name("/Metadata")] = stream(w, b"<?xpacket begin=''?><x:xmpmeta xmlns:x='adobe:ns:meta/'/><?xpacket end='w'?>",
                                           {pdf_name("/Type"): pdf_name("/Metadata"),
                                            pdf_name("/Subtype"): pdf_name("/XML")})


def _info(w):
    # through the writer: pyHanko's writer puts its own /Info back into the trailer it writes
    info = w.add_object(generic.DictionaryObject({pdf_name("/Title"): pdf_string("Quyết định"),
                                                  pdf_name("/Producer"): pdf_string("Viewer")}))
    w.set_info(info)


def _struct(w):
    page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
    elem = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/StructElem"), pdf_name("/S"): pdf_name("/P"),
        pdf_name("/Pg"): page_ref, pdf_name("/K"): generic.NumberObject(0)}))
    w.root[pdf_name("/StructTreeRoot")] = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/StructTreeRoot"), pdf_name("/K"): elem}))
    w.root[pdf_name("/MarkInfo")] = generic.DictionaryObject(
        {pdf_name("/Marked"): generic.BooleanObject(True)})
    w.root[pdf_name("/Lang")] = pdf_string("vi-VN")


def _outline(w):
    page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
    outlines = w.add_object(generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Outlines")}))
    item = w.add_object(generic.DictionaryObject({
        pdf_name("/Title"): pdf_string("Điều 1"), pdf_name("/Parent"): outlines,
        pdf_name("/Dest"): generic.ArrayObject([page_ref, pdf_name("/Fit")])}))
    o = outlines.get_object()
    o[pdf_name("/First")] = item
    o[pdf_name("/Last")] = item
    o[pdf_name("/Count")] = generic.NumberObject(1)
    w.root[pdf_name("/Outlines")] = outlines


@pytest.mark.parametrize("edit", [_xmp, _info, _struct, _outline],
                         ids=["xmp", "info", "structure-tree", "outline"])
def test_housekeeping_after_signing(signed, pki, edit):
    rep = check(_root_edit(signed, edit), pki)
    assert rep.verdict in ("valid", "valid_with_changes"), (rep.changes, rep.problems)
    assert rep.changes


def test_outline_with_javascript_is_refused(signed, pki):
    def edit(w):
        _outline(w)
        item = w.root["/Outlines"]["/First"]
        item[pdf_name("/A")] = generic.DictionaryObject({
            pdf_name("/S"): pdf_name("/JavaScript"), pdf_name("/JS"): pdf_string("app.alert(1)")})

    assert check(_root_edit(signed, edit), pki).verdict == "modified"


def _acro_edit(pdf: bytes, key: str, value) -> bytes:
    def edit(w):
        acro_ref = w.root.raw_get("/AcroForm")
        acro = acro_ref.get_object()
        acro[pdf_name(key)] = value
        if isinstance(acro_ref, generic.IndirectObject):
            w.mark_update(acro_ref)
        else:
            w.update_root()

    return incremental(pdf, edit)


@pytest.mark.parametrize("key,value", [
    ("/DA", pdf_string("/Helv 0 Tf 0 g")),
    ("/NeedAppearances", generic.BooleanObject(True)),
], ids=["da", "need-appearances"])
def test_acroform_housekeeping(pki, key, value):
    signed_ = sign(make_pdf(with_form=True), pki)
    rep = check(_acro_edit(signed_, key, value), pki)
    assert rep.verdict in ("valid", "valid_with_changes"), (rep.changes, rep.problems)


# -- attachments ---------------------------------------------------------------------------

def test_signed_pdf_with_embedded_signed_pdf(plain, pki):
    from pyhanko.pdf_utils import embed

    inner = sign(make_pdf(text="Phu luc"), pki, who=pki.signer2)
    w = IncrementalPdfFileWriter(io.BytesIO(plain), strict=False)
    ef = embed.EmbeddedFileObject.from_file_data(w, inner, compress=False,
                                                 mime_type="application/pdf")
    embed.embed_file(w, embed.FileSpec(file_spec_string="phu-luc.pdf", embedded_data=ef))
    out = io.BytesIO()
    w.write(out)
    outer = sign(out.getvalue(), pki, tsa=True)
    rep = check(outer, pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)
    assert [s.field for s in rep.signatures] == ["ChuKy1"]
    both = sign(outer, pki, who=pki.signer2, field="ChuKy2", lta=True)
    assert check(both, pki).verdict == "valid"


def test_dss_with_vri_added_twice(signed, pki):
    """Two LTV rounds, each adding validation data with a per-signature VRI entry."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    r = PdfFileReader(io.BytesIO(signed), strict=False)
    contents = r.embedded_signatures[0].pkcs7_content
    pdf = signed
    for _ in range(2):
        out = io.BytesIO(pdf)
        DocumentSecurityStore.add_dss(out, contents, crls=pki.asn1_crls,
                                      certs=[pki.intermediate.asn1_cert])
        pdf = out.getvalue()
    rep = check(pdf, pki)
    assert rep.verdict == "valid", (rep.changes, rep.problems)
    assert rep.signatures[0].revocation == "good"


def test_form_filled_after_certification_p3(pki):
    from .test_verdicts import _fill_field

    certified = sign(make_pdf(with_form=True), pki, certify=True, docmdp=MDPPerm.ANNOTATE)
    assert check(_fill_field(certified, "Da nhan"), pki).verdict == "valid_with_changes"


@pytest.mark.parametrize("edit", [_xmp, _struct, _outline], ids=["xmp", "structure-tree", "outline"])
def test_housekeeping_does_not_hide_a_content_change(signed, pki, edit):
    """A housekeeping revision that also overrides the page's font (object overriding)."""
    def both(w):
        edit(w)
        fonts = w.root["/Pages"]["/Kids"][0]["/Resources"]["/Font"]
        font_ref = fonts.raw_get(next(iter(fonts.keys())))
        font_ref.get_object()[pdf_name("/BaseFont")] = pdf_name("/Courier")
        w.mark_update(font_ref)

    assert check(_root_edit(signed, both), pki).verdict == "modified"
