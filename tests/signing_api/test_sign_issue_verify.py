"""The leader signs the approved version, the clerk issues it with number, date and the agency
seal, and anyone verifies it — through the HTTP API, with the development PKI."""
import shutil
import subprocess

from tests.conftest import make_pdf


def _content(client, headers, doc_id) -> bytes:
    r = client.get(f"/api/v1/documents/{doc_id}/content", headers=headers)
    assert r.status_code == 200
    return r.content


def _pdftotext(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout


def test_leader_signs_clerk_issues_citizen_verifies(client, as_user, approved_draft, tmp_path, env):
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-T"})
    assert r.status_code == 201, r.text
    signed = r.json()
    assert signed["status"] == "signed" and signed["version"]["is_final"] and signed["version"]["kind"] == "signed"

    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"), json={})
    assert r.status_code in (200, 201), r.text
    issued = r.json()
    assert issued["symbol"].endswith("/QĐ-UBND")
    pdf = _content(client, as_user("vanthu"), doc["id"])
    text = _pdftotext(pdf, tmp_path)
    assert "CHỦ TỊCH" in text and "Phạm Văn Đức" in text
    assert f"Số: {issued['symbol']}" in text
    assert "Yên Khánh, ngày" in text

    report = client.post("/api/v1/verify", files={"file": ("qd.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "valid", report
    assert report["trusted"] is True
    sigs = [s for s in report["signatures"] if s.get("kind", "signature") == "signature"]
    assert len(sigs) == 4  # personal, number, date, seal
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in sigs)
    assert sigs[0]["signer"] == "Phạm Văn Đức"
    # The personal signature was made at B-T; the seal's DSS (default level B-LT) holds the CA's
    # CRL, which covers the leader's certificate too, so the report rates it B-LT.
    assert sigs[0]["level"] == "B-LT" and sigs[0]["timestamp"]
    assert sigs[-1]["level"] == "B-LT" and sigs[-1]["signer"] == "UBND huyện Yên Khánh"

    if shutil.which("qpdf"):
        path = tmp_path / "issued.pdf"
        path.write_bytes(pdf)
        assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0


def test_only_the_approved_version_can_be_signed(client, as_user, approved_draft):
    doc = approved_draft()
    # A new draft version after approval voids the approval (the drafter must resubmit).
    r = client.post(f"/api/v1/documents/{doc['id']}/versions", headers=as_user("chuyenvien"),
                    files={"file": ("v2.pdf", make_pdf("Ban sua"), "application/pdf")})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")


def test_signing_rules_by_role(client, as_user, approved_draft, upload):
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chuyenvien"), json={"kind": "personal"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chungthuc"), json={"kind": "seal"})
    assert r.status_code == 403
    incoming = upload()
    r = client.post(f"/api/v1/documents/{incoming['id']}/sign", headers=as_user("chutich"), json={})
    assert r.status_code == 409


def test_idempotency_key_returns_the_same_version(client, as_user, approved_draft):
    doc = approved_draft()
    h = {**as_user("chutich"), "Idempotency-Key": "sign-42"}
    first = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=h, json={"level": "B-B"})
    assert first.status_code == 201, first.text
    again = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=h, json={"level": "B-B"})
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["version"]["id"] == first.json()["version"]["id"]
    versions = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()["versions"]
    assert [v["kind"] for v in versions] == ["upload", "signed"]


def test_failed_signing_leaves_the_previous_version(client, as_user, approved_draft, env):
    """A broken key store: the request fails with a clear error and nothing changes."""
    doc = approved_draft()
    for p in (env.data_dir / "pki" / "personal").glob("chutich*"):
        p.write_bytes(b"broken")
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-B"})
    assert 400 <= r.status_code < 600 and r.status_code != 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    after = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert after["status"] == "approved" and len(after["versions"]) == 1


def test_tsa_down_gives_503_and_no_new_version(env):
    """The configured TSA refuses connections: retries, then a clear 503; the document is unchanged."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.storage.s3server import closed_port

    app = create_app(env.settings(tsa_url=f"http://127.0.0.1:{closed_port()}/tsa"))
    with TestClient(app, raise_server_exceptions=False) as c:
        def as_user(name):
            tok = c.post("/api/v1/auth/token", data={"username": name, "password": "demo-password-123"})
            return {"Authorization": f"Bearer {tok.json()['access_token']}"}

        from tests.signing_api.conftest import approved_draft_factory

        doc = approved_draft_factory(c, as_user)()
        r = c.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-T"})
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        after = c.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
        assert after["status"] == "approved" and len(after["versions"]) == 1


def test_revoked_signer_certificate_is_refused_before_signing(client, as_user, approved_draft, settings):
    from certs.devpki import ensure_dev_pki

    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="x", signers=[])
    pki.revoke(pki.personal_certs["chutich"])
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-B"})
    assert r.status_code == 422, r.text
    assert "thu hồi" in r.json()["detail"]
    after = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert after["status"] == "approved" and len(after["versions"]) == 1


def test_official_without_a_server_key_is_told_to_use_the_token(client, as_user, approved_draft, env):
    from sqlalchemy import update

    from ioffice.accounts.models import User
    from tests.conftest import db_session

    with db_session(env) as s:
        s.execute(update(User).where(User.username == "chutich").values(signing_key=None))
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={})
    assert r.status_code == 422 and "USB token" in r.json()["detail"]
    after = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert after["status"] == "approved" and len(after["versions"]) == 1
