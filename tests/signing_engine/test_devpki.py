"""The development PKI: files, protection, idempotency, extensions, and its services."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.devpki import make_router
from certs.devpki import ROOT_NAME, ensure_dev_pki
from certs.trust import load_trust_roots

PW = b"mat-khau"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    return ensure_dev_pki(d, passphrase=PW, agency_name="UBND huyện Yên Khánh",
                          signers=[("chutich", "Nguyễn Văn Hùng")],
                          base_url="http://127.0.0.1:8000/dev-pki")


def test_layout_protection_and_names(pki):
    assert pki.root_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ROOT_NAME
    for p in [pki.root_key_path, pki.intermediate_key_path, pki.seal_key_path, pki.tsa_key_path,
              pki.ocsp_key_path, pki.personal_key_path("chutich")]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        if shutil.which("openssl"):
            info = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", str(p), "-passin",
                                   f"pass:{PW.decode()}"], capture_output=True, text=True).stderr
            assert "AES-256-CBC" in info and "PBES2" in info, info
        with pytest.raises(ValueError):
            from cryptography.hazmat.primitives.serialization import pkcs12

            pkcs12.load_key_and_certificates(p.read_bytes(), b"wrong")
    assert stat.S_IMODE(pki.pki_dir.stat().st_mode) == 0o700
    cn = pki.personal_certs["chutich"].subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
    assert cn.value == "Nguyễn Văn Hùng"
    seal = pki.seal_cert
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "UBND huyện Yên Khánh"
    ku = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment
    # CN is a UTF8String (tag 12)
    asn1 = asn1_x509.Certificate.load(pki.personal_certs["chutich"].public_bytes(
        Encoding.DER))
    cn_attr = [a for rdn in asn1.subject.chosen for a in rdn if a["type"].native == "common_name"][0]
    assert cn_attr["value"].name == "utf8_string"
    eku = pki.tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and ExtendedKeyUsageOID.TIME_STAMPING in eku.value


def test_idempotent_and_extends_without_new_root(pki):
    again = ensure_dev_pki(pki.pki_dir, passphrase=PW, agency_name="UBND huyện Yên Khánh",
                           signers=[("chutich", "Nguyễn Văn Hùng"), ("vanthu", "Trần Thị Lựu")])
    assert again.root_cert == pki.root_cert
    assert again.personal_certs["chutich"] == pki.personal_certs["chutich"]
    assert "vanthu" in again.personal_certs and again.personal_key_path("vanthu").exists()
    assert again.personal_certs["vanthu"].issuer == pki.intermediate_cert.subject
    with pytest.raises(ValueError):
        ensure_dev_pki(pki.pki_dir, passphrase=b"wrong", agency_name="x", signers=[("new", "Mới")])


def test_trust_roots_from_file_folder_and_env(pki, tmp_path, monkeypatch):
    assert [c.dump() for c in load_trust_roots(pki.root_pem_path)] == [
        asn1_x509.Certificate.load(pki.root_cert.public_bytes(
            Encoding.DER)).dump()]
    folder = tmp_path / "roots"
    folder.mkdir()
    (folder / "a.pem").write_bytes(pki.root_pem_path.read_bytes())
    (folder / "chain.pem").write_bytes(pki.chain_pem_path.read_bytes())
    assert len(load_trust_roots(folder)) == 2  # duplicates dropped
    monkeypatch.setenv("IOFFICE_TRUST_ROOTS", f"{folder}{os.pathsep}{pki.root_pem_path}")
    from api.settings import Settings

    assert len(load_trust_roots(Settings().trust_root_paths)) == 2
    assert load_trust_roots() == []  # certs reads no environment
    (folder / "bad.pem").write_text("nope")
    with pytest.raises(ValueError):
        load_trust_roots(folder)


def test_router_serves_tsa_ocsp_crl_and_root(pki):
    app = FastAPI()
    app.include_router(make_router(pki))
    client = TestClient(app)
    assert client.get("/dev-pki/root.pem").content == pki.root_pem_path.read_bytes()

    req = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x01" * 32},
        "cert_req": True,
    })
    r = client.post("/dev-pki/tsa", content=req.dump(),
                    headers={"Content-Type": "application/timestamp-query"})
    assert r.status_code == 200
    resp = tsp.TimeStampResp.load(r.content)
    assert resp["status"]["status"].native == "granted"
    assert client.post("/dev-pki/tsa", content=b"garbage").status_code == 400

    crl = asn1_crl.CertificateList.load(client.get("/dev-pki/crl").content)
    assert crl.issuer.native["common_name"] == "ioffice Development Issuing CA"
    root_crl = asn1_crl.CertificateList.load(client.get("/dev-pki/root.crl").content)
    assert root_crl.issuer.native["common_name"] == ROOT_NAME

    bad = ocsp.OCSPResponse.load(client.post("/dev-pki/ocsp", content=b"junk").content)
    assert bad["response_status"].native == "malformed_request"
