"""Hostile input: the engine answers with a report, never a traceback or a hang."""
from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import sign


def raw_update(pdf: bytes, objects: dict[int, bytes], *, root_body: bytes | None = None) -> bytes:
    """Append a hand-written incremental update (classic xref table), as a crafted file would."""
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    root_ref = r.root_ref
    size = int(r.trailer["/Size"])
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    objs = dict(objects)
    if root_body is not None:
        objs[root_ref.idnum] = root_body
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    for num, body in sorted(objs.items()):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num in sorted(objs):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    new_size = max(size, max(objs) + 1)
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (new_size, root_ref.idnum, prev, xref))
    return bytes(out)


def catalog_with(pdf: bytes, extra: bytes) -> bytes:
    """The current catalog's text with ``extra`` entries added."""
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    buf = io.BytesIO()
    r.root.write_to_stream(buf)
    body = buf.getvalue().rstrip()
    assert body.endswith(b">>")
    return body[:-2] + b" " + extra + b" >>"


@pytest.fixture(scope="module")
def signed(pki) -> bytes:
    return sign(make_pdf(), pki)


def _next_id(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf), strict=False).trailer["/Size"])


def test_reference_loop_after_signing(signed, pki):
    """A later revision adds a catalog entry whose indirect objects reference each other."""
    n = _next_id(signed)
    pdf = raw_update(signed, {n: b"%d 0 R" % (n + 1), n + 1: b"%d 0 R" % n},
                     root_body=catalog_with(signed, b"/Loop %d 0 R" % n))
    rep = validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)
    assert rep.verdict == "modified"


def test_deeply_nested_array_after_signing(signed, pki):
    """Nesting far beyond any recursion limit in a new object referenced from the catalog."""
    n = _next_id(signed)
    depth = 50_000
    pdf = raw_update(signed, {n: b"[" * depth + b"]" * depth},
                     root_body=catalog_with(signed, b"/Deep %d 0 R" % n))
    rep = validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)
    assert rep.verdict in ("modified", "unreadable")


def test_deeply_nested_unsigned_document_never_raises(pki):
    plain = make_pdf()
    n = _next_id(plain)
    pdf = raw_update(plain, {n: b"<< /A " * 20_000 + b">>" * 20_000},
                     root_body=catalog_with(plain, b"/Deep %d 0 R" % n))
    rep = validate_pdf(pdf, isolate=True)
    assert rep.verdict in ("no_signature", "unreadable")


def test_isolated_run_accepts_paths_and_streams(signed, pki, tmp_path):
    """The default (isolated child process) path gives the same verdict as in-process."""
    p = tmp_path / "signed.pdf"
    p.write_bytes(signed)
    assert validate_pdf(p, trust_roots=[pki.root.asn1_cert]).verdict == "valid"
    with open(p, "rb") as fh:
        rep = validate_pdf(fh, trust_roots=[pki.root.pem])
    assert rep.verdict == "valid" and rep.trusted


def test_time_limit_gives_a_report(signed, pki, monkeypatch):
    """An analysis that cannot finish within the limit ends with an "unreadable" report naming
    the time limit, not a hang. The analysis is made to block (as a hostile document's would), so
    the outcome does not depend on how fast this machine is."""
    import threading

    import signing.validation.isolation as isolation

    release = threading.Event()
    monkeypatch.setattr(isolation, "_analyse_safely", lambda job: release.wait(30) and None)
    try:
        rep = validate_pdf(signed, trust_roots=[pki.root.cert], timeout=0.2, isolate=False)
    finally:
        release.set()
    assert rep.verdict == "unreadable"
    assert any("thời gian" in p for p in rep.problems)
    assert rep.sha256 == __import__("hashlib").sha256(signed).hexdigest()


def test_size_cap(signed):
    rep = validate_pdf(signed, max_bytes=1000, isolate=False)
    assert rep.verdict == "unreadable"
    assert any("giới hạn" in p for p in rep.problems)


@pytest.mark.parametrize("junk", [
    b"%PDF-1.7\n" + b"\x00" * 5000,
    b"%PDF-1.4\ntrailer << /Root 1 0 R >>\nstartxref\n999999\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\nxref\n0 2\n"
    b"0000000000 65535 f \n0000000009 00000 n \ntrailer << /Root 1 0 R /Size 2 >>\n"
    b"startxref\n55\n%%EOF\n",
], ids=["zeros", "bad-startxref", "self-referencing-pages"])
def test_broken_pdfs_are_reported(junk):
    rep = validate_pdf(junk, isolate=False)
    assert rep.verdict in ("unreadable", "no_signature")
    d = rep.to_dict()
    assert d["signatures"] == [] and d["trusted"] is False


def test_legacy_sha1_subfilter_is_not_accepted(signed, pki):
    """A signature claiming the legacy adbe.pkcs7.sha1 format cannot be verified: never valid,
    and it has no PAdES level."""
    legacy = signed.replace(b"/ETSI.CAdES.detached", b"/adbe.pkcs7.sha1\x20\x20\x20\x20", 1)
    assert len(legacy) == len(signed)
    rep = validate_pdf(legacy, trust_roots=[pki.root.cert], isolate=False)
    assert rep.verdict == "invalid"
    assert rep.signatures[0].level is None


def test_isa_objects_appended_without_xref(signed, pki):
    """Incremental saving attack variant: new objects and a trailer are appended, but the final
    startxref still points at the signed revision's xref. A strict reader sees the signed
    revision only; a repairing viewer renders the appended objects."""
    r = PdfFileReader(io.BytesIO(signed), strict=False)
    prev = int(re.findall(rb"startxref\s+(\d+)", signed)[-1])
    page_ref = r.root["/Pages"].raw_get("/Kids")
    n = int(r.trailer["/Size"])
    evil = (b"\n%d 0 obj\n<< /Length 44 >>\nstream\nBT /F1 14 Tf 72 700 Td (GIA MAO) Tj ET\n"
            b"endstream\nendobj\ntrailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (n, n + 1, r.root_ref.idnum, prev))
    del page_ref
    rep = validate_pdf(signed + evil, trust_roots=[pki.root.cert], isolate=False)
    assert rep.verdict == "modified", rep.to_dict()


def test_isolated_child_does_not_import_the_callers_main(signed, pki, tmp_path):
    """The analysis really runs in a child process, and the child does not run the caller's main
    script again (for ``ioffice verify`` that would be the whole CLI, pydantic and FastAPI)."""
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "signed.pdf").write_bytes(signed)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    script = tmp_path / "caller.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "print('main imported in', os.getpid(), flush=True)\n"
        "from signing.validation.isolation import _Job, _run_isolated\n"
        "from signing.validation import load_certificates\n"
        "if __name__ == '__main__':\n"
        f"    data = open({str(tmp_path / 'signed.pdf')!r}, 'rb').read()\n"
        f"    roots = load_certificates({str(tmp_path / 'root.pem')!r})\n"
        "    rep = _run_isolated(_Job(data=data, roots=roots, others=[], allow_fetching=False,\n"
        "                             now=None, fetch_timeout=5), 60)\n"
        "    print('verdict', rep.verdict if rep is not None else 'not isolated', flush=True)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120).stdout
    assert out.count("main imported in") == 1, out
    assert "verdict valid" in out, out
