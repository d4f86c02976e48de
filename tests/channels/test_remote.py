"""Remote signing (CSC API v1) against a real CSC service on loopback (certomancer-csc-dummy), with
certomancer's TSA and OCSP/CRL: immediate and delayed confirmation on the phone, refusal and
expiry (the document is left exactly as it was)."""
from __future__ import annotations

import pytest

from .conftest import pdfsig_valid, wait_until


@pytest.fixture
def settings(remote_settings):
    return remote_settings


def setup_remote(client, as_user, provider: str, credential: str = "ioffice/signer") -> None:
    users = client.get("/api/v1/users", headers=as_user("admin")).json()
    uid = next(u["id"] for u in users if u["username"] == "chutich")
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"),
                   json={"method": "remote", "csc_provider": provider, "csc_credential_id": credential})
    assert r.status_code == 200, r.text


def start(client, as_user, doc) -> dict:
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"mode": "remote"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "waiting_for_confirmation"
    return body


def session_state(client, as_user, sid: str) -> dict:
    r = client.get(f"/api/v1/signing-sessions/{sid}", headers=as_user("chutich"))
    assert r.status_code == 200, r.text
    return r.json()


def finished(client, as_user, sid: str) -> dict:
    return wait_until(lambda: (lambda s: s if s["status"] not in ("waiting_for_confirmation",) else None)(
        session_state(client, as_user, sid)), what="the remote signature")


def check_signed_b_lt(client, as_user, doc, csc_service, tmp_path) -> None:
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "signed"
    pdf = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    report = client.post("/api/v1/verify", files={"file": ("d.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "valid" and report["trusted"], report
    assert report["signatures"][0]["signer"] == "Phạm Văn Đức"
    assert report["signatures"][0]["level"] == "B-LT", report
    # poppler accepts the signature (its certificate check needs OCSP over GET, which the test
    # responder does not serve; trust is asserted by our validation engine above)
    pdfsig_valid(pdf, tmp_path)


def assert_unchanged(client, as_user, doc) -> None:
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "approved"
    assert [v["id"] for v in got["versions"]] == [v["id"] for v in doc["versions"]]
    assert got["current_version_id"] == doc["current_version_id"]


@pytest.mark.slow
def test_remote_signature_confirmed_at_once(client, as_user, approved_draft, csc_service, tmp_path):
    setup_remote(client, as_user, "direct")
    assert client.get("/api/v1/auth/me", headers=as_user("chutich")).json()["signing_method"] == "remote"
    doc = approved_draft()
    sid = start(client, as_user, doc)["session_id"]
    state = finished(client, as_user, sid)
    assert state["status"] == "completed", state.get("detail")
    check_signed_b_lt(client, as_user, doc, csc_service, tmp_path)


@pytest.mark.slow
def test_remote_signature_waits_for_the_phone_then_completes(client, as_user, approved_draft, csc_service, tmp_path):
    setup_remote(client, as_user, "smartca")
    csc_service.phone.mode = "hold"
    doc = approved_draft()
    sid = start(client, as_user, doc)["session_id"]
    wait_until(csc_service.phone.polled.is_set, what="the first poll")
    shown = client.get(f"/api/v1/documents/{doc['id']}/signing-state", headers=as_user("chutich")).json()
    assert shown["status"] == "waiting_for_confirmation"
    assert shown["label"] == "Đang chờ người ký xác nhận trên điện thoại"
    assert_unchanged(client, as_user, doc)
    csc_service.phone.mode = "confirm"  # the official confirms on their phone
    state = finished(client, as_user, sid)
    assert state["status"] == "completed", state.get("detail")
    check_signed_b_lt(client, as_user, doc, csc_service, tmp_path)


@pytest.mark.slow
def test_refused_on_the_phone_leaves_the_document_as_it_was(client, as_user, approved_draft, csc_service):
    setup_remote(client, as_user, "smartca")
    csc_service.phone.mode = "refuse"
    doc = approved_draft()
    sid = start(client, as_user, doc)["session_id"]
    state = finished(client, as_user, sid)
    assert state["status"] == "refused", state
    assert "từ chối" in state["detail"]
    assert_unchanged(client, as_user, doc)


@pytest.mark.slow
def test_unconfirmed_request_expires_and_leaves_the_document_as_it_was(remote_settings, csc_service):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import login
    from tests.signing_api.conftest import approved_draft_factory

    app = create_app(remote_settings.model_copy(update={"remote_confirm_timeout_seconds": 0.5}))
    with TestClient(app) as client:
        cache: dict = {}

        def as_user(u):
            return cache.setdefault(u, login(client, u))

        setup_remote(client, as_user, "smartca")
        csc_service.phone.mode = "hold"
        doc = approved_draft_factory(client, as_user)()
        sid = start(client, as_user, doc)["session_id"]
        state = finished(client, as_user, sid)
        assert state["status"] == "expired", state
        assert "chưa xác nhận" in state["detail"]
        assert_unchanged(client, as_user, doc)
