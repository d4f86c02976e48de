"""Signing through PKCS#11 with a real SoftHSM2 token."""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from certs.keys import load_signer, parse_pkcs11_uri
from signing.engine import PreparedSigner, sign_pdf
from signing.errors import SigningKeyUnavailable
from tests.support.pdfs import make_pdf

from .conftest import assert_interop

MODULE = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                           "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(MODULE is None, reason="softhsm2 is not installed")
PIN = "123456"
LABEL = "ioffice-test"


@pytest.fixture(scope="module")
def token(tmp_path_factory, dev_env):
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    # The module is loaded in this process (python-pkcs11 initialises it once, reading
    # SOFTHSM2_CONF then, so it is re-initialised below); the variable is restored afterwards.
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    env = dict(os.environ)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--so-pin", "654321",
                    "--pin", PIN], check=True, capture_output=True, env=env)
    key, cert = dev_env.pki.load_key(dev_env.pki.personal_key_path("chutich"))
    (d / "key.der").write_bytes(key.private_bytes(serialization.Encoding.DER,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    objects = [("key.der", "privkey", "chutich", "01"),
               ("cert.der", "cert", "chutich", "01"),
               ("inter.der", "cert", "issuing-ca", "02"),
               ("root.der", "cert", "root-ca", "03")]
    (d / "cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (d / "inter.der").write_bytes(dev_env.pki.intermediate_cert.public_bytes(serialization.Encoding.DER))
    (d / "root.der").write_bytes(dev_env.pki.root_cert.public_bytes(serialization.Encoding.DER))
    for fname, typ, label, oid in objects:
        subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", LABEL, "--login",
                        "--pin", PIN, "--write-object", str(d / fname), "--type", typ,
                        "--label", label, "--id", oid], check=True, capture_output=True, env=env)
    # Another test in this process may have loaded the module with its own SOFTHSM2_CONF: the
    # module reads the variable only when initialised, so initialise it again for this token.
    import pkcs11

    pkcs11.lib(MODULE).reinitialize()
    yield d
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(autouse=True)
def _module_reads_this_token(request):
    """Tests of other modules may run in this process between ours (xdist) and load the module
    with their own SOFTHSM2_CONF: before each test using the token, initialise it again."""
    if "token" in request.fixturenames and os.environ.get("SOFTHSM2_CONF"):
        import pkcs11

        pkcs11.lib(MODULE).reinitialize()


def test_parse_rfc7512_uri():
    u = parse_pkcs11_uri("pkcs11:token=ioffice%20test;object=chutich;id=%01?pin-value=1234")
    assert (u.token, u.object, u.id, u.pin_value) == ("ioffice test", "chutich", b"\x01", "1234")


def test_sign_with_softhsm_token(token, dev_env, nss_db, tmp_path):
    signer = PreparedSigner(load_signer(f"pkcs11:token={LABEL};object=chutich?pin-value={PIN}",
                                        module_path=MODULE))
    assert signer.subject_name == "Nguyễn Văn Hùng"
    once = sign_pdf(make_pdf(1), signer=signer)
    path = tmp_path / "hsm.pdf"
    path.write_bytes(once)
    assert_interop(path, nss_db, 1)
    out = sign_pdf(once, signer=signer)  # the token session is reused
    r = PdfFileReader(io.BytesIO(out))
    for sig in r.embedded_signatures:
        st = validate_pdf_signature(sig, dev_env.validation_context())
        assert st.intact and st.valid and st.trusted


def test_wrong_pin_is_a_clear_error(token):
    with pytest.raises(SigningKeyUnavailable) as ei:
        load_signer(f"pkcs11:token={LABEL};object=chutich", pin="000000", module_path=MODULE)
    assert "PIN" in ei.value.detail


def test_missing_object_is_a_clear_error(token):
    with pytest.raises(SigningKeyUnavailable):
        load_signer(f"pkcs11:token={LABEL};object=khong-co", pin=PIN, module_path=MODULE)
