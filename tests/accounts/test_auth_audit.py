"""Login, throttling, token expiry, and the audit hash chain (both databases)."""
import subprocess
import sys

from sqlalchemy import select, update

from tests.conftest import DEMO_PASSWORD


def test_login_issues_token_and_me_shows_organisation(client, as_user):
    r = client.get("/api/v1/auth/me", headers=as_user("chutich"))
    assert r.status_code == 200
    body = r.json()
    assert body["roles"] == ["leader"] and body["organisation"]["name"] == "UBND huyện Yên Khánh"


def test_wrong_password_is_401_and_repeated_failures_are_throttled(client):
    for _ in range(5):
        r = client.post("/api/v1/auth/token", data={"username": "vanthu", "password": "wrong-password"})
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "không đúng" in r.json()["detail"]
    # Even the right password is refused while throttled.
    r = client.post("/api/v1/auth/token", data={"username": "vanthu", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    # Another user is not affected.
    assert client.post("/api/v1/auth/token", data={"username": "chutich", "password": DEMO_PASSWORD}).status_code == 200


def test_expired_token_is_refused(client, env):
    import time_machine

    with time_machine.travel("2026-01-01 08:00 +0000", tick=False):
        token = client.post("/api/v1/auth/token", data={"username": "vanthu", "password": DEMO_PASSWORD}).json()
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 401
    assert "hết hạn" in r.json()["detail"]


def test_role_change_revokes_existing_tokens(client, as_user):
    users = client.get("/api/v1/users", headers=as_user("admin")).json()
    cv = next(u for u in users if u["username"] == "chuyenvien")
    old = as_user("chuyenvien")
    r = client.patch(f"/api/v1/users/{cv['id']}", headers=as_user("admin"), json={"roles": ["specialist", "clerk"]})
    assert r.status_code == 200 and r.json()["roles"] == ["specialist", "clerk"]
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401


def _run_audit_verify(env):
    import os

    environ = dict(os.environ, IOFFICE_DATA_DIR=str(env.data_dir), IOFFICE_DATABASE_URL=env.database_url)
    return subprocess.run([sys.executable, "-m", "api.cli", "audit", "verify"], env=environ, capture_output=True,
                          text=True, timeout=120)


def test_state_changes_are_audited_and_chain_detects_an_edited_event(client, as_user, upload, env):
    from ioffice.audit.models import AuditEvent
    from ioffice.kernel.db import make_engine

    doc = upload()
    client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    client.post("/api/v1/auth/token", data={"username": "vanthu", "password": "bad-password"})
    client.get("/api/v1/users", headers=as_user("admin"))
    client.post("/api/v1/users", headers=as_user("admin"),
                json={"username": "chuyenvien2", "full_name": "Vũ Thị Lan", "password": "password-123",
                      "roles": ["specialist"]})
    engine = make_engine(env.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.action, AuditEvent.actor_name, AuditEvent.client_addr,
                                   AuditEvent.object_id)).all()
    actions = [r.action for r in rows]
    for expected in ("auth.login", "auth.login_failed", "document.upload", "document.download", "user.create"):
        assert expected in actions
    upload_ev = next(r for r in rows if r.action == "document.upload")
    assert upload_ev.actor_name == "vanthu" and upload_ev.object_id == doc["id"] and upload_ev.client_addr

    ok = _run_audit_verify(env)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout

    with engine.begin() as conn:
        target = conn.scalar(select(AuditEvent.id).where(AuditEvent.action == "document.upload"))
        conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(actor_name="someone-else"))
    engine.dispose()
    bad = _run_audit_verify(env)
    assert bad.returncode == 1
    assert f"event_id={target}" in bad.stdout and "edited" in bad.stdout
