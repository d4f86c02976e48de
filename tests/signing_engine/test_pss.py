"""RSASSA-PSS signing keys (mandatory in the national standards list): sign and validate."""
from __future__ import annotations

import io

from pyhanko.pdf_utils.reader import PdfFileReader

from certs.keys import load_signer
from signing.engine import PreparedSigner, sign_pdf
from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf
from tests.support.pki import PASSPHRASE


def test_pss_key_signs_and_our_engine_says_valid(test_pki):
    base = load_signer(str(test_pki.p12("signer")), passphrase=PASSPHRASE, prefer_pss=True)
    signer = PreparedSigner(base)
    assert signer.signature_mechanism["algorithm"].native == "rsassa_pss"

    out = sign_pdf(make_pdf(1), signer=signer, level="B-B")

    sig = PdfFileReader(io.BytesIO(out)).embedded_regular_signatures[0]
    signer_info = sig.signed_data["signer_infos"][0]
    assert signer_info["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    report = validate_pdf(out, trust_roots=[test_pki.cert("root")], isolate=False)
    assert report.verdict == "valid", report.to_dict()
    assert report.trusted
    assert report.signatures[0].signer == "Nguyễn Văn Hùng"
