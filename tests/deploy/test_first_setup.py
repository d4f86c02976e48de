"""A real office set up from an empty database with the CLI (real subprocesses), no demo:
`ioffice init` tells what to do next; `org create` / `user create` make the agency and its
administrator (password from stdin, never argv), who logs in over HTTP; keys and trust roots are
imported; bad input gives one line and a non-zero exit."""
from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import _pg_exec, _pg_url, pg_available
from tests.deploy.test_run import _clean_env, _start, _stop, _wait_healthy, free_port

CODE = "000.00.12.H41"


def ioffice(env, *args, stdin: str | None = None, cwd=None):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=180, cwd=cwd)


@pytest.fixture
def empty_install(backend, tmp_path):
    env = _clean_env(IOFFICE_DATA_DIR=str(tmp_path / "data"))
    dbname = None
    if backend == "postgresql":
        if not pg_available():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        dbname = f"ioffice_setup_{uuid.uuid4().hex[:10]}"
        _pg_exec(f'CREATE DATABASE "{dbname}"')
        env["IOFFICE_DATABASE_URL"] = _pg_url(dbname)
    yield env
    if dbname:
        _pg_exec(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _one_line_error(r) -> str:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ioffice: ") and "Traceback" not in r.stderr
    return lines[0]


@pytest.mark.slow
def test_agency_and_administrator_from_an_empty_database_then_login(empty_install, tmp_path):
    env = empty_install
    init = ioffice(env, "init")
    assert init.returncode == 0, init.stderr
    assert "ioffice org create" in init.stdout and "ioffice user create" in init.stdout

    # Bad input: one line, non-zero exit.
    assert "13 ký tự" in _one_line_error(ioffice(env, "org", "create", "Sở Nội vụ", "--code", "12.34"))
    assert "chữ viết tắt" in _one_line_error(ioffice(env, "org", "create", "Sở Nội vụ", "--code", CODE,
                                                      "--abbr", "sở nv!"))
    r = ioffice(env, "org", "create", "Sở Nội vụ tỉnh Ninh Bình", "--code", CODE.lower(), "--parent",
                "UBND tỉnh Ninh Bình", "--place", "Ninh Bình")
    assert r.returncode == 0, r.stderr
    assert "(SNVTNB)" in r.stdout  # the derived abbreviation is shown
    assert "đã tồn tại" in _one_line_error(ioffice(env, "org", "create", "Khác", "--code", CODE))
    assert "không có cơ quan" in _one_line_error(
        ioffice(env, "user", "create", "quantri", "--org", "000.00.99.H99", "--role", "admin", "--password-stdin",
                stdin="mat-khau-rat-dai\n")).lower()
    assert "vai trò" in _one_line_error(ioffice(env, "user", "create", "quantri", "--org", CODE, "--role", "root",
                                                 "--password-stdin", stdin="mat-khau-rat-dai\n"))
    assert "8 ký tự" in _one_line_error(ioffice(env, "user", "create", "quantri", "--org", CODE, "--role", "admin",
                                                 "--password-stdin", stdin="ngan\n"))
    # No keyboard and no --password-stdin: refused, not hanging, no password on the command line.
    assert "--password-stdin" in _one_line_error(
        ioffice(env, "user", "create", "quantri", "--org", CODE, "--role", "admin", stdin=""))
    r = ioffice(env, "user", "create", "quantri", "--org", CODE, "--role", "admin", "--full-name",
                "Quản trị hệ thống", "--password-stdin", stdin="Mat-khau-quan-tri-1\n", cwd=tmp_path / "..")
    assert r.returncode == 0, r.stderr
    assert "Mat-khau" not in r.stdout + r.stderr
    r = ioffice(env, "unit", "create", "Văn phòng", "--org", CODE, "--abbr", "VP")
    assert r.returncode == 0, r.stderr
    r = ioffice(env, "user", "create", "vanthu1", "--org", CODE, "--role", "clerk", "--unit", "VP",
                "--password-stdin", stdin="Mat-khau-van-thu-1\n")
    assert r.returncode == 0, r.stderr
    assert "quantri" in ioffice(env, "user", "create", "quantri", "--org", CODE, "--role", "admin",
                                "--password-stdin", stdin="Mat-khau-quan-tri-2\n").stderr
    again = ioffice(env, "init")
    assert again.returncode == 0 and "ioffice serve" in again.stdout

    port = free_port()
    proc = _start(["serve", "--workers", "1"], tmp_path, dict(env, IOFFICE_BASE_URL=f"http://127.0.0.1:{port}"),
                  port)
    try:
        _wait_healthy(proc, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            bad = c.post("/api/v1/auth/token", data={"username": "quantri", "password": "Mat-khau-quan-tri-2"})
            assert bad.status_code == 401
            tok = c.post("/api/v1/auth/token", data={"username": "quantri", "password": "Mat-khau-quan-tri-1"})
            assert tok.status_code == 200, tok.text
            h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
            me = c.get("/api/v1/auth/me", headers=h)
            assert me.status_code == 200, me.text
            assert me.json()["roles"] == ["admin"]
            assert me.json()["organisation"] == {
                "id": me.json()["organisation"]["id"], "name": "Sở Nội vụ tỉnh Ninh Bình", "abbreviation": "SNVTNB",
                "organ_code": CODE, "parent_name": "UBND tỉnh Ninh Bình", "place": "Ninh Bình"}
            users = c.get("/api/v1/users", headers=h).json()
            names = {u["username"]: u for u in (users["items"] if isinstance(users, dict) else users)}
            assert set(names) == {"quantri", "vanthu1"}
            assert names["vanthu1"]["roles"] == ["clerk"]
    finally:
        _stop(proc)


def _make_p12(tmp_path, name: str, passphrase: bytes, *, rsa: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root CA thử nghiệm")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    if rsa:
        from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys

        key = rsa_keys.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
            .sign(ca_key, hashes.SHA256()))
    _make_p12.last_key = key
    p12 = tmp_path / f"{name}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"k", key, cert, [ca],
                                                          serialization.BestAvailableEncryption(passphrase)))
    root = tmp_path / "root.pem"
    root.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return p12, root, cert


@pytest.mark.parametrize("backend", ["sqlite"])
def test_seal_key_user_key_and_trust_roots_are_imported(empty_install, tmp_path):
    from api.settings import Settings
    from certs.keys import load_signer

    env = empty_install
    p12, root, cert = _make_p12(tmp_path, "Con dau So Noi vu", b"pass-phrase-1")
    r = ioffice(env, "trust", "add", str(root))
    assert r.returncode == 0, r.stderr and "Root CA thử nghiệm" in r.stdout
    assert "không phải chứng thư" in _one_line_error(ioffice(env, "trust", "add", str(p12)))
    init = ioffice(env, "init")
    assert init.returncode == 0, init.stderr
    assert not (tmp_path / "data" / "pki").exists()  # trust roots given first: no development PKI
    assert ioffice(env, "org", "create", "Sở Nội vụ", "--code", CODE, "--abbr", "SNV").returncode == 0
    assert ioffice(env, "user", "create", "giamdoc", "--org", CODE, "--role", "leader", "--password-stdin",
                   stdin="Mat-khau-giam-doc\n").returncode == 0

    assert "sai mật khẩu" in _one_line_error(ioffice(env, "key", "import-seal", str(p12), "--passphrase-stdin",
                                                     stdin="wrong\n"))
    r = ioffice(env, "key", "import-seal", str(p12), "--passphrase-stdin", stdin="pass-phrase-1\n")
    assert r.returncode == 0, r.stderr
    assert "pass-phrase-1" not in r.stdout + r.stderr
    r = ioffice(env, "key", "import-user", "giamdoc", str(p12), "--passphrase-stdin", stdin="pass-phrase-1\n")
    assert r.returncode == 0, r.stderr
    assert "không có người dùng" in _one_line_error(
        ioffice(env, "key", "import-user", "ai-do", str(p12), "--passphrase-stdin", stdin="pass-phrase-1\n"))
    listed = ioffice(env, "trust", "list")
    assert "Root CA thử nghiệm" in listed.stdout

    # What the service will use: the imported key (re-encrypted under the instance secret, 0600)
    # and the imported roots.
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.seal_key == str(tmp_path / "data" / "keys" / "seal.p12")
    assert (tmp_path / "data" / "keys" / "seal.p12").stat().st_mode & 0o077 == 0
    assert settings.trust_roots == str(tmp_path / "data" / "trust")
    signer = load_signer(settings.seal_key, passphrase=settings.pki_passphrase)
    assert signer.signing_cert.dump() == cert.public_bytes(__import__(
        "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    from sqlalchemy import create_engine, text

    eng = create_engine(f"sqlite:///{tmp_path / 'data' / 'ioffice.db'}")
    with eng.connect() as conn:
        ref = conn.execute(text("SELECT signing_key FROM users WHERE username='giamdoc'")).scalar()
    eng.dispose()
    assert Path(ref).parent == tmp_path / "data" / "keys" / "users" and Path(ref).name.startswith("giamdoc-")
    assert load_signer(ref, passphrase=settings.pki_passphrase).signing_cert.dump() == signer.signing_cert.dump()


SOFTHSM = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()), None)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_seal_key_in_an_hsm_is_imported_by_its_pkcs11_uri(empty_install, tmp_path):
    """A `pkcs11:` seal key (SoftHSM2 standing in for the agency's HSM) is opened to check it, and
    its URI becomes the agency's key reference; a wrong PIN is one line and changes nothing."""
    import os
    import shutil

    from cryptography.hazmat.primitives import serialization

    from api.settings import Settings

    if SOFTHSM is None or shutil.which("pkcs11-tool") is None:
        pytest.skip("softhsm2 / pkcs11-tool (opensc) is not installed")
    d = tmp_path / "hsm"
    (d / "tokens").mkdir(parents=True)
    (d / "softhsm2.conf").write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n")
    env = dict(empty_install, SOFTHSM2_CONF=str(d / "softhsm2.conf"))
    hsm_env = dict(os.environ, SOFTHSM2_CONF=str(d / "softhsm2.conf"))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "agency-hsm", "--so-pin", "87654321",
                    "--pin", "1234"], check=True, capture_output=True, env=hsm_env)
    _, root, cert = _make_p12(tmp_path, "Con dau HSM", b"x", rsa=True)
    (d / "key.der").write_bytes(_make_p12.last_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (d / "cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    for fname, typ in (("key.der", "privkey"), ("cert.der", "cert")):
        subprocess.run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "agency-hsm", "--login", "--pin", "1234",
                        "--write-object", str(d / fname), "--type", typ, "--label", "seal", "--id", "01"],
                       check=True, capture_output=True, env=hsm_env)
    uri = f"pkcs11:token=agency-hsm;object=seal?pin-value=1234&module-path={SOFTHSM}"
    assert "PKCS#11" in _one_line_error(ioffice(env, "key", "import-seal", uri.replace("1234", "9999")))
    assert not (tmp_path / "data" / "keys" / "seal.ref").exists()
    r = ioffice(env, "key", "import-seal", uri)
    assert r.returncode == 0, r.stderr
    assert "Con dau HSM" in r.stdout
    ref = tmp_path / "data" / "keys" / "seal.ref"
    assert ref.read_text().strip() == uri and ref.stat().st_mode & 0o077 == 0  # the URI holds the PIN
    assert Settings(data_dir=tmp_path / "data").seal_key == uri
