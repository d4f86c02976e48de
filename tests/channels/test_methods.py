"""A signing method per official, set by the administrator; registered certificates are checked;
a sign request in a mode the official does not have is refused in Vietnamese."""
from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import LEADER, issue_for, pem


def _user_id(client, as_user, username: str) -> str:
    users = client.get("/api/v1/users", headers=as_user("admin")).json()
    return next(u["id"] for u in users if u["username"] == username)


def _pki(settings):
    from certs.devpki import ensure_dev_pki

    return ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="x", signers=[])


def test_admin_sets_token_method_and_the_official_sees_it(client, as_user, approved_draft, settings):
    uid = _user_id(client, as_user, "chutich")
    assert client.get("/api/v1/auth/me", headers=as_user("chutich")).json()["signing_method"] == "server"
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"), json={"method": "token"})
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=as_user("chutich")).json()["signing_method"] == "token"

    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"kind": "personal"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("signing-method-not-allowed")
    assert "USB token" in r.json()["detail"]
    # nothing happened to the document
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "approved" and len(got["versions"]) == len(doc["versions"])

    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"mode": "remote"})
    assert r.status_code == 422 and "từ xa" in r.json()["detail"], r.text


def test_only_the_admin_sets_methods_and_remote_needs_a_configured_provider(client, as_user):
    uid = _user_id(client, as_user, "chutich")
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("chutich"), json={"method": "token"})
    assert r.status_code == 403
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"), json={"method": "remote"})
    assert r.status_code == 422 and "csc_provider" in r.json()["detail"]
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"),
                   json={"method": "remote", "csc_provider": "smartca", "csc_credential_id": "x/y"})
    assert r.status_code == 422 and "chưa được cấu hình" in r.json()["detail"], r.text


def test_certificate_registration_checks_trust_validity_usage_and_name(client, as_user, settings):
    pki = _pki(settings)
    uid = _user_id(client, as_user, "chutich")
    admin = as_user("admin")
    key = rsa.generate_private_key(65537, 2048)

    def put(cert_pem: str):
        return client.put(f"/api/v1/users/{uid}/certificate", headers=admin, json={"certificate_pem": cert_pem})

    r = put(pem(issue_for(pki, key.public_key(), "Người Khác")))
    assert r.status_code == 403 and "không mang tên" in r.json()["detail"], r.text
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    r = put(pem(issue_for(pki, key.public_key(), LEADER, days=10, not_before=past)))
    assert r.status_code == 422 and "hết hạn" in r.json()["detail"], r.text
    r = put(pem(issue_for(pki, key.public_key(), LEADER, key_usage=False)))
    assert r.status_code == 422 and "ký số" in r.json()["detail"], r.text
    # a certificate from a CA nobody trusts (self-signed by the key itself)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LEADER)])
    now = dt.datetime.now(dt.UTC)
    selfsigned = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                  .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
                  .not_valid_after(now + dt.timedelta(days=10)).sign(key, hashes.SHA256()))
    r = put(pem(selfsigned))
    assert r.status_code == 422 and "tin cậy" in r.json()["detail"], r.text

    good = issue_for(pki, key.public_key(), LEADER)
    r = put(pem(good))
    assert r.status_code == 200, r.text
    assert LEADER in r.json()["certificate_subject"]


def test_a_plugin_that_signed_with_another_certificate_is_refused(client, as_user, approved_draft, settings):
    import base64

    from cryptography.hazmat.primitives import serialization

    pki = _pki(settings)
    uid = _user_id(client, as_user, "chutich")
    mine = issue_for(pki, rsa.generate_private_key(65537, 2048).public_key(), LEADER)
    other = issue_for(pki, rsa.generate_private_key(65537, 2048).public_key(), LEADER)
    assert client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"),
                      json={"method": "token"}).status_code == 200
    assert client.put(f"/api/v1/users/{uid}/certificate", headers=as_user("admin"),
                      json={"certificate_pem": pem(mine)}).status_code == 200
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"mode": "external"})
    assert r.status_code == 201, r.text
    prepared = r.json()
    assert base64.b64decode(prepared["hash_to_sign"]) == __import__("hashlib").sha256(
        base64.b64decode(prepared["data_to_sign"])).digest()
    r = client.post(f"/api/v1/signing-sessions/{prepared['session_id']}/complete", headers=as_user("chutich"),
                    json={"signature": base64.b64encode(b"x" * 256).decode(),
                          "certificate": base64.b64encode(other.public_bytes(serialization.Encoding.DER)).decode()})
    assert r.status_code == 422 and "chứng thư số khác" in r.json()["detail"], r.text
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "approved"
    # a certificate that is not the registered one is refused at prepare time too
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                    json={"mode": "external", "certificate_pem": pem(other)})
    assert r.status_code == 422 and "đã đăng ký" in r.json()["detail"], r.text
