"""The hashes that find a checked file in the registers (the whole file, each signed revision)
and the signatures' own digests come from one pass over the bytes: they must still be exactly
the SHA-256 of those bytes, and a change inside the signed bytes must still break the signature."""
from __future__ import annotations

import hashlib
import re

import pytest

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import generic, incremental, pdf_name, sign


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _byte_ranges(pdf: bytes) -> list[list[int]]:
    return [[int(x) for x in m.groups()] for m in re.finditer(
        rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)]


def _add_note(pdf: bytes) -> bytes:
    """A reader's sticky note, appended as an incremental update (a permitted change)."""
    def edit(w):
        page_ref = list.__getitem__(w.root["/Pages"]["/Kids"], 0)
        note = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, [500, 700, 520, 720])),
            pdf_name("/Contents"): generic.TextStringObject("Đã xem"),
        })
        w.register_annotation(page_ref, w.add_object(note))
    return incremental(pdf, edit)


@pytest.fixture(scope="module")
def extended(pki) -> tuple[bytes, bytes, bytes]:
    """Issued with one signature, signed again, then a reader's note appended."""
    first = sign(make_pdf(), pki)
    second = sign(first, pki, who=pki.signer2, field="ChuKy2")
    return first, second, _add_note(second)


@pytest.mark.parametrize("isolate", [False, True])
def test_issued_versions_are_found_by_their_hashes(extended, pki, tmp_path, isolate):
    first, second, final = extended
    source = tmp_path / "final.pdf"
    source.write_bytes(final)
    rep = validate_pdf(source if isolate else final, trust_roots=[pki.root.cert],
                       isolate=isolate, timeout=60)
    assert rep.verdict == "valid_with_changes", rep.to_dict()
    assert rep.sha256 == _sha(final)
    # each signature names the exact bytes it signed: the file as it was then
    assert [s.signed_sha256 for s in rep.signatures] == [_sha(first), _sha(second)]
    assert {_sha(first), _sha(second)} <= set(rep.revision_sha256s)
    for (a, _b, c, d), s in zip(_byte_ranges(final), rep.signatures, strict=True):
        assert s.intact and s.valid
        assert a == 0 and s.signed_sha256 == _sha(final[:c + d])


def test_a_changed_signed_byte_still_breaks_the_signature(pki):
    signed = sign(make_pdf(), pki)
    (_a, b, _c, _d), = _byte_ranges(signed)
    # a byte inside the signed part (before the /Contents gap), in the page's text
    i = signed.index(b"(", 0, b)
    tampered = signed[:i + 1] + bytes([signed[i + 1] ^ 0x01]) + signed[i + 2:]
    rep = validate_pdf(tampered, trust_roots=[pki.root.cert], isolate=False)
    assert rep.verdict == "invalid", rep.to_dict()
    assert not rep.signatures[0].intact
    assert rep.sha256 == _sha(tampered)
