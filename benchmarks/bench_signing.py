"""Signing benchmark: stock pyHanko path vs ioffice's PreparedSigner engine.

Run: ``python benchmarks/bench_signing.py [--quick] [--big-mb 200]``

Everything runs locally: a throw-away development PKI (certs.devpki), its TSA/OCSP/CRL router
(api.routes.devpki) served on 127.0.0.1 for the B-LT figure, PDFs generated with reportlab.

Measured in one run on the same PDFs and the same key (RSA-2048, PKCS#12):
  * stock  = ``SimpleSigner.load_pkcs12`` + ``signers.sign_pdf`` with default settings and a
             visible field (pyHanko's default stamp), per signature (what a naive service does);
  * ours   = ``signing.engine.sign_pdf`` with a PreparedSigner loaded once, same visible stamp;
  * ours + Decree 30 personal appearance (signing.appearance), when available;
  * signatures/s with both cores (ProcessPoolExecutor, one PreparedSigner per worker);
  * the raw RSA-2048 signature floor;
  * B-LT (TSA + OCSP on loopback) per signature;
  * peak RSS signing a large PDF file-to-file, in a fresh subprocess (resource.getrusage).
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASS = b"bench-passphrase"


def make_pdf(pages: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(pages):
        c.setFont("Helvetica", 11)
        for j in range(45):
            c.drawString(60, 780 - j * 16, f"Page {i + 1} line {j + 1}: Lorem ipsum dolor sit amet, "
                                            "consectetur adipiscing elit, sed do eiusmod.")
        c.showPage()
    c.save()
    return buf.getvalue()


def write_big_pdf(path: Path, size_mb: int) -> None:
    """A valid PDF of about ``size_mb`` MB: one page plus a large embedded file, streamed."""
    chunk = os.urandom(1 << 20)
    body_len = size_mb << 20
    offsets = []
    with open(path, "wb") as f:
        def obj(n: int, content: bytes) -> None:
            offsets.append(f.tell())
            f.write(f"{n} 0 obj\n".encode() + content + b"\nendobj\n")

        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(1, b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(data.bin) 5 0 R] >> >> >>")
        obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>")
        content = b"BT /F1 12 Tf 72 760 Td (Large document with an attachment) Tj ET"
        obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        offsets.append(f.tell())
        f.write(b"6 0 obj\n<< /Type /EmbeddedFile /Length %d >>\nstream\n" % body_len)
        written = 0
        while written < body_len:
            n = min(len(chunk), body_len - written)
            f.write(chunk[:n])
            written += n
        f.write(b"\nendstream\nendobj\n")
        six = offsets.pop()
        obj(5, b"<< /Type /Filespec /F (data.bin) /EF << /F 6 0 R >> >>")
        offsets.insert(5, six)  # object 6 sits before object 5 in the file
        xref = f.tell()
        f.write(b"xref\n0 7\n0000000000 65535 f \n")
        for off in offsets:
            f.write(b"%010d 00000 n \n" % off)
        f.write(b"trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)


def setup_pki(tmp: Path, port: int):
    from certs.devpki import ensure_dev_pki

    return ensure_dev_pki(tmp / "pki", passphrase=PASS, agency_name="UBND huyện Yên Khánh",
                          signers=[("chutich", "Nguyễn Văn Hùng")],
                          base_url=f"http://127.0.0.1:{port}/dev-pki")


def serve_devpki(pki, port: int):
    import uvicorn
    from fastapi import FastAPI

    from api.routes.devpki import make_router

    app = FastAPI()
    app.include_router(make_router(pki))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


def timed(fn, n: int) -> float:
    """Median-free simple mean in ms over n runs (after one warm-up)."""
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1000


def stock_once(p12: Path, data: bytes, signer=None) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    if signer is None:
        signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASS)
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name="Signature1")
    spec = fields.SigFieldSpec("Signature1", box=(305, 90, 545, 245))
    return signers.sign_pdf(w, meta, signer=signer, new_field_spec=spec).getvalue()


class _Visible:
    def __init__(self, style) -> None:
        self.page = 0
        self.box = (305, 90, 545, 245)
        self.stamp_style = style
        self.text_params = None


def default_visible():
    from pyhanko.sign.signers.constants import DEFAULT_SIGNING_STAMP_STYLE

    return _Visible(DEFAULT_SIGNING_STAMP_STYLE)


# -- worker pool (module level for pickling) -------------------------------------------------
_W: dict = {}


def _worker_init(p12: str, data: bytes) -> None:
    from certs.keys import load_signer
    from signing.engine import PreparedSigner

    _W["signer"] = PreparedSigner(load_signer(str(p12), passphrase=PASS))
    _W["data"] = data
    _W["app"] = default_visible()


def _worker_sign(n: int) -> int:
    from signing.engine import sign_pdf

    for _ in range(n):
        sign_pdf(_W["data"], signer=_W["signer"], appearance=_W["app"])
    return n


def big_child(p12: str, src: str, dst: str, mode: str) -> None:
    """Run in a fresh process: sign ``src`` into ``dst``; print the peak RSS in MB."""
    from certs.keys import load_signer
    from signing.engine import PreparedSigner, sign_pdf

    signer = PreparedSigner(load_signer(str(p12), passphrase=PASS))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    if mode == "file":
        with open(src, "rb") as fi, open(dst, "wb+") as fo:
            sign_pdf(fi, signer=signer, appearance=default_visible(), output=fo)
    else:
        data = Path(src).read_bytes()
        out = sign_pdf(data, signer=signer, appearance=default_visible())
        Path(dst).write_bytes(out)
    el = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peak:.1f} {base:.1f} {el:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    ap.add_argument("--big-mb", type=int, default=200)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from certs.keys import load_signer
    from signing.engine import PreparedSigner, http_timestamper, make_validation_context, sign_pdf

    n_stock = 5 if args.quick else 20
    n_ours = 50 if args.quick else 300
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tdir:
        tmp = Path(tdir)
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        pki = setup_pki(tmp, port)
        p12 = pki.personal_key_path("chutich")
        docs = {"1 page": make_pdf(1), "50 pages": make_pdf(50)}
        signer = PreparedSigner(load_signer(str(p12), passphrase=PASS))
        vis = default_visible()
        try:
            from signing.appearance import personal_signature

            decree = personal_signature(position="CHỦ TỊCH", authority="TM. ỦY BAN NHÂN DÂN",
                                        full_name="Nguyễn Văn Hùng")
        except Exception:  # appearance module missing
            decree = None

        from pyhanko.sign import signers as _signers

        stock_signer = _signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASS)
        ratios = []
        for label, data in docs.items():
            stock = timed(lambda: stock_once(p12, data), n_stock)
            stock_loaded = timed(lambda: stock_once(p12, data, stock_signer), n_stock)
            ours = timed(lambda: sign_pdf(data, signer=signer, appearance=vis), n_ours)
            ratios.append(stock / ours)
            rows.append((f"B-B visible, {label}, stock pyHanko", f"{stock:8.1f} ms/signature"))
            rows.append((f"B-B visible, {label}, stock, PKCS#12 loaded once", f"{stock_loaded:8.1f} ms/signature"))
            rows.append((f"B-B visible, {label}, ioffice engine", f"{ours:8.2f} ms/signature"))
            rows.append((f"  ratio stock/ours ({label})", f"{stock / ours:8.1f} x"))
            if decree is not None:
                d = timed(lambda: sign_pdf(data, signer=signer, appearance=decree), n_ours // 3)
                rows.append((f"B-B Decree 30 personal appearance, {label}", f"{d:8.2f} ms/signature"))

        # both cores
        data = docs["1 page"]
        per_worker = 100 if args.quick else 400
        with ProcessPoolExecutor(2, initializer=_worker_init, initargs=(str(p12), data)) as ex:
            list(ex.map(_worker_sign, [5, 5]))  # warm-up
            t = time.perf_counter()
            total = sum(ex.map(_worker_sign, [per_worker, per_worker]))
            el = time.perf_counter() - t
        rows.append(("B-B visible, 1 page, 2 processes", f"{total / el:8.0f} signatures/s"))
        one_core = 1000 / timed(lambda: sign_pdf(data, signer=signer, appearance=vis), n_ours)
        rows.append(("B-B visible, 1 page, 1 process", f"{one_core:8.0f} signatures/s"))

        # RSA floor
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        key, _ = pki.load_key(p12)
        digest_input = b"x" * 100
        floor = timed(lambda: key.sign(digest_input, padding.PKCS1v15(), hashes.SHA256()), 500)
        rows.append(("raw RSA-2048 signature (floor)", f"{floor:8.2f} ms"))

        # B-LT on loopback
        server = serve_devpki(pki, port)
        from certs.trust import load_trust_roots

        vcf = make_validation_context(load_trust_roots(pki.root_pem_path))
        tsa = http_timestamper(pki.tsa_url)
        n_lt = 5 if args.quick else 15
        blt = timed(lambda: sign_pdf(data, signer=signer, level="B-LT", appearance=vis,
                                     timestamper=tsa, validation_context=vcf), n_lt)
        bt = timed(lambda: sign_pdf(data, signer=signer, level="B-T", appearance=vis,
                                    timestamper=tsa), n_lt)
        rows.append(("B-T visible, 1 page, TSA on loopback", f"{bt:8.1f} ms/signature"))
        rows.append(("B-LT visible, 1 page, TSA+OCSP+CRL on loopback", f"{blt:8.1f} ms/signature"))
        server.should_exit = True

        # big file, in fresh subprocesses
        big = tmp / "big.pdf"
        write_big_pdf(big, args.big_mb)
        size_mb = big.stat().st_size / (1 << 20)
        target = 1.5 * size_mb + 100
        for mode in ("file", "bytes"):
            res = subprocess.run(
                [sys.executable, __file__, "--child", str(p12), str(big), str(tmp / "big-signed.pdf"), mode],
                capture_output=True, text=True, check=True,
            )
            peak, base, el = res.stdout.split()
            rows.append((f"{size_mb:.0f} MB PDF, {mode}-to-{mode}, peak RSS",
                         f"{float(peak):8.0f} MB (target <= {target:.0f}; {float(el):.1f} s; "
                         f"{float(base):.0f} MB after imports)"))
            (tmp / "big-signed.pdf").unlink(missing_ok=True)

    width = max(len(a) for a, _ in rows)
    print("\nioffice signing benchmark (RSA-2048, SHA-256, PAdES)")
    print("-" * (width + 40))
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    print("-" * (width + 40))
    print(f"speed-up (target >= 15x): {min(ratios):.1f}x .. {max(ratios):.1f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        big_child(*sys.argv[2:6])
    else:
        main()
