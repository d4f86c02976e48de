"""Officials and keys at run time: the administrator adds an official and gives them a key on the
running application; the official signs at once, and the signature validates."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.conftest import DEMO_PASSWORD, login, make_pdf

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _new_leader(client, as_user, username: str, full_name: str) -> str:
    r = client.post("/api/v1/users", headers=as_user("admin"),
                    json={"username": username, "full_name": full_name, "password": DEMO_PASSWORD,
                          "roles": ["leader"], "position": "Phó Chủ tịch"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _approved_by(client, as_user, leader_id: str, username: str, summary: str) -> str:
    r = client.post("/api/v1/documents", headers=as_user("chuyenvien"),
                    files={"file": ("du-thao.pdf", make_pdf("Du thao"), "application/pdf")},
                    data={"metadata": json.dumps({"direction": "outgoing", "doc_type": "Công văn", "summary": summary},
                                                 ensure_ascii=False)})
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    r = client.post(f"/api/v1/documents/{doc_id}/submit", headers=as_user("chuyenvien"),
                    json={"stages": [{"name": "Phó Chủ tịch phê duyệt", "reviewer_ids": [leader_id]}]})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/documents/{doc_id}/review", headers=as_user(username),
                    json={"decision": "approve", "comment": "Đồng ý"})
    assert r.status_code == 200, r.text
    return doc_id


def _sign_and_check(client, as_user, username: str, doc_id: str):
    """The official signs; the public verification finds the signature valid; returns the signer's certificate."""
    r = client.post(f"/api/v1/documents/{doc_id}/sign", headers=as_user(username), json={"level": "B-B"})
    assert r.status_code == 201, r.text
    pdf = client.get(f"/api/v1/documents/{doc_id}/content", headers=as_user(username)).content
    report = client.post("/api/v1/verify", files={"file": ("a.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "valid" and report["trusted"], report
    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1].signer_cert


def test_new_official_signs_at_once_with_a_development_certificate(client, as_user):
    leader = _new_leader(client, as_user, "phochutich", "Vũ Minh Khang")
    method = client.get(f"/api/v1/users/{leader}/signing-method", headers=as_user("admin")).json()
    assert method["method"] == "server"
    doc_id = _approved_by(client, as_user, leader, "phochutich", "Về việc tổ chức hội nghị")
    cert = _sign_and_check(client, as_user, "phochutich", doc_id)
    assert cert.subject.native["common_name"] == "Vũ Minh Khang"


def test_uploaded_pkcs12_is_used_at_once_on_the_running_app(client, as_user, settings):
    from certs.devpki import ensure_dev_pki, issue_signer_certificate

    leader = _new_leader(client, as_user, "phochutich2", "Hoàng Thị Lan")
    # the official first signs with the development key (the adapter now caches that signer) …
    first = _sign_and_check(client, as_user, "phochutich2",
                            _approved_by(client, as_user, leader, "phochutich2", "Về việc thứ nhất"))

    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="", signers=[])
    key, cert = issue_signer_certificate(pki, common_name="Hoàng Thị Lan", organization="UBND huyện Yên Khánh")
    p12 = pkcs12.serialize_key_and_certificates(b"lan", key, cert, pki.chain, BestAvailableEncryption(b"mat-khau-9"))

    r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("admin"),
                   files={"file": ("lan.p12", p12, "application/x-pkcs12")}, data={"passphrase": "sai-mat-khau"})
    assert r.status_code == 422 and "sai mật khẩu" in r.json()["detail"]
    r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("chutich"),
                   files={"file": ("lan.p12", p12, "application/x-pkcs12")}, data={"passphrase": "mat-khau-9"})
    assert r.status_code == 403
    # someone else's key is refused: the certificate must name the official
    other_key, other_cert = issue_signer_certificate(pki, common_name="Người Khác", organization="UBND")
    other = pkcs12.serialize_key_and_certificates(b"x", other_key, other_cert, pki.chain,
                                                  BestAvailableEncryption(b"mat-khau-9"))
    r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("admin"),
                   files={"file": ("x.p12", other, "application/x-pkcs12")}, data={"passphrase": "mat-khau-9"})
    assert r.status_code == 403 and "không mang tên" in r.json()["detail"], r.text

    r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("admin"),
                   files={"file": ("lan.p12", p12, "application/x-pkcs12")}, data={"passphrase": "mat-khau-9"})
    assert r.status_code == 200, r.text
    assert r.json()["method"] == "server" and "Hoàng Thị Lan" in r.json()["certificate_subject"]

    # … and the next signature, on the same running app, is made with the uploaded key
    second = _sign_and_check(client, as_user, "phochutich2",
                             _approved_by(client, as_user, leader, "phochutich2", "Về việc thứ hai"))
    assert second.serial_number == cert.serial_number != first.serial_number


def test_patch_changes_name_position_unit_and_roles(client, as_user):
    leader = _new_leader(client, as_user, "phochutich3", "Đinh Văn Nam")
    units = {u["abbreviation"]: u["id"] for u in client.get("/api/v1/units", headers=as_user("admin")).json()}
    r = client.patch(f"/api/v1/users/{leader}", headers=as_user("admin"),
                     json={"full_name": "Đinh Văn Nam (B)", "position": "Chủ tịch", "unit_id": units["VP"],
                           "roles": ["leader", "unit_head"]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["full_name"], got["position"], got["unit_id"]) == ("Đinh Văn Nam (B)", "Chủ tịch", units["VP"])
    assert sorted(got["roles"]) == ["leader", "unit_head"]
    # a specialist promoted to unit head gets a development certificate too
    r = client.post("/api/v1/users", headers=as_user("admin"),
                    json={"username": "chuyenvien2", "full_name": "Mai Văn Tú", "password": DEMO_PASSWORD,
                          "roles": ["specialist"]})
    assert r.status_code == 201
    uid = r.json()["id"]
    assert client.get(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin")).json()["method"] == "token"
    client.patch(f"/api/v1/users/{uid}", headers=as_user("admin"), json={"roles": ["unit_head"]})
    assert client.get(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin")).json()["method"] == "server"


SOFTHSM = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()), None)


@pytest.fixture
def hsm_official(tmp_path, settings, monkeypatch):
    """A SoftHSM2 token holding a new official's key and certificate (issued by the development PKI)."""
    from cryptography.hazmat.primitives import serialization

    from certs.devpki import ensure_dev_pki, issue_signer_certificate

    if SOFTHSM is None or not shutil.which("softhsm2-util") or not shutil.which("pkcs11-tool"):
        pytest.skip("not applicable: SoftHSM2 and pkcs11-tool are not installed")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    run = dict(check=True, capture_output=True, env=dict(os.environ))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "hsm-lanh-dao", "--so-pin", "654321",
                    "--pin", "123456"], **run)
    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="", signers=[])
    key, cert = issue_signer_certificate(pki, common_name="Trịnh Quốc Bảo", organization="UBND huyện Yên Khánh")
    (tmp_path / "key.der").write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (tmp_path / "cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    for fname, typ in (("key.der", "privkey"), ("cert.der", "cert")):
        subprocess.run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "hsm-lanh-dao", "--login", "--pin",
                        "123456", "--write-object", str(tmp_path / fname), "--type", typ, "--label", "bao",
                        "--id", "01"], **run)
    # The module reads SOFTHSM2_CONF only when initialised: another test in this process may have
    # loaded it with its own token directory, so initialise it again for this one.
    import pkcs11

    pkcs11.lib(SOFTHSM).reinitialize()
    return cert


def test_a_pkcs11_key_is_given_at_run_time(hsm_official, env, as_user):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(env.settings(pkcs11_module=SOFTHSM))) as client:
        def as_user(username: str) -> dict:  # noqa: F811 - this app's own logins
            return login(client, username)

        leader = _new_leader(client, as_user, "phochutich4", "Trịnh Quốc Bảo")
        r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("admin"),
                       data={"pkcs11_uri": "pkcs11:token=hsm-lanh-dao;object=bao?pin-value=000000"})
        assert r.status_code == 422 and "PIN" in r.json()["detail"], r.text
        r = client.put(f"/api/v1/users/{leader}/signing-key", headers=as_user("admin"),
                       data={"pkcs11_uri": "pkcs11:token=hsm-lanh-dao;object=bao?pin-value=123456"})
        assert r.status_code == 200, r.text
        assert r.json()["method"] == "server" and "Trịnh Quốc Bảo" in r.json()["certificate_subject"]
        signed = _sign_and_check(client, as_user, "phochutich4",
                                 _approved_by(client, as_user, leader, "phochutich4", "Về việc ký bằng HSM"))
        assert signed.serial_number == hsm_official.serial_number
