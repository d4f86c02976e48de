"""`ioffice sign` through the real argument parser (api.cli_sign.register/run)."""
from __future__ import annotations

import argparse
import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from api import cli_sign
from tests.support.pdfs import make_pdf

from .conftest import DEV_PASSPHRASE, assert_interop


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ioffice")
    cli_sign.register(parser.add_subparsers())
    args = parser.parse_args(["sign", *argv])
    return args.func(args)


@pytest.fixture
def env(monkeypatch, dev_env):
    monkeypatch.setenv("DEVPASS", DEV_PASSPHRASE.decode())
    monkeypatch.delenv("IOFFICE_TSA_URL", raising=False)
    monkeypatch.delenv("IOFFICE_TRUST_ROOTS", raising=False)
    return dev_env


@pytest.mark.parametrize("appearance", ["personal", "seal", "attachment", "copy", "none"])
def test_sign_each_appearance(env, tmp_path, appearance, capsys):
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(2))
    dst = tmp_path / "out.pdf"
    key = env.pki.personal_key_path("chutich") if appearance == "personal" else env.pki.seal_key_path
    rc = _run(str(src), str(dst), "--key", str(key), "--passphrase-env", "DEVPASS",
              "--appearance", appearance, "--number-symbol", "123/UBND-VP",
              "--trust", str(env.pki.root_pem_path))
    assert rc == 0, capsys.readouterr().err
    r = PdfFileReader(io.BytesIO(dst.read_bytes()))
    st = validate_pdf_signature(r.embedded_signatures[0], env.validation_context())
    assert st.intact and st.valid and st.trusted


@pytest.mark.slow
def test_sign_b_lt_with_tsa(env, tmp_path, nss_db):
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(1))
    dst = tmp_path / "out.pdf"
    rc = _run(str(src), str(dst), "--key", str(env.pki.seal_key_path), "--passphrase-env", "DEVPASS",
              "--level", "B-LT", "--tsa", env.pki.tsa_url, "--trust", str(env.pki.root_pem_path))
    assert rc == 0
    assert_interop(dst, nss_db, 1)


def test_bad_inputs_give_one_line_and_nonzero(env, tmp_path, capsys):
    src = tmp_path / "in.pdf"
    src.write_bytes(b"not a pdf")
    rc = _run(str(src), str(tmp_path / "o.pdf"), "--key", str(env.pki.seal_key_path),
              "--passphrase-env", "DEVPASS")
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.pdf").exists()

    src.write_bytes(make_pdf(1))
    rc = _run(str(src), str(tmp_path / "o.pdf"), "--key", str(env.pki.seal_key_path),
              "--passphrase-env", "NO_SUCH_VAR")
    err = capsys.readouterr().err
    assert rc == 2 and "mật khẩu" in err and err.count("\n") == 1

    rc = _run(str(tmp_path / "missing.pdf"), str(tmp_path / "o.pdf"))
    assert rc == 2


def test_sign_uses_the_documented_seal_key_settings(test_pki, tmp_path):
    """``ioffice sign`` without --key signs with IOFFICE_SEAL_KEY / IOFFICE_SEAL_KEY_PASSPHRASE
    (the README's names), through the installed command."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.pki import PASSPHRASE

    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(1))
    dst = tmp_path / "out.pdf"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")}
    env.update(IOFFICE_DATA_DIR=str(tmp_path / "data"), IOFFICE_SEAL_KEY=str(test_pki.p12("seal")),
               IOFFICE_SEAL_KEY_PASSPHRASE=PASSPHRASE.decode())
    proc = subprocess.run([str(Path(sys.executable).parent / "ioffice"), "sign", str(src), str(dst)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    sig = PdfFileReader(io.BytesIO(dst.read_bytes())).embedded_signatures[0]
    assert sig.signer_cert.subject.native["common_name"] == "UBND huyện Yên Khánh"
    assert sig.signer_cert.dump() == test_pki.cert("seal").dump()
