"""My tasks ordering, in-app notifications, and e-mail through a real SMTP server on loopback."""
from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import time_machine
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from ioffice.kernel.workcalendar import vn_today
from tests.support.workflow import Demo, db_session

from ..conftest import login


def _incoming_registered(d: Demo, upload, summary: str) -> str:
    doc = upload("vanthu", direction="incoming", doc_type="Công văn", summary=summary,
                 number_symbol=f"{abs(hash(summary)) % 900 + 10}/SXD-QLN", issuing_body="Sở Xây dựng")
    r = d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    assert r.status_code in (200, 201), r.text
    return doc["id"]


def test_tasks_overdue_first_then_by_due_date(client, as_user, upload):
    d = Demo(client, as_user)
    today = vn_today()
    late_doc = _incoming_registered(d, upload, "Về việc kiểm tra trật tự xây dựng")
    with time_machine.travel(datetime.now(UTC) - timedelta(days=10)):
        r = client.post(f"/api/v1/documents/{late_doc}/assign", headers=login(client, "chutich"),
                        json={"lead": {"unit_id": d.unit["TP"]}, "deadline": str(today - timedelta(days=5))})
        assert r.status_code == 201, r.text
    soon_doc = _incoming_registered(d, upload, "Về việc góp ý dự thảo quy định")
    r = d.post("chutich", f"/api/v1/documents/{soon_doc}/assign",
               {"lead": {"unit_id": d.unit["TP"]}, "deadline": str(today + timedelta(days=3))})
    assert r.status_code == 201, r.text
    due_draft = d.draft(summary="Báo cáo gấp", due_date=str(today + timedelta(days=1)))["id"]
    open_draft = d.draft(summary="Báo cáo thường kỳ")["id"]
    for doc_id in (open_draft, due_draft):
        r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
        assert r.status_code == 201, r.text

    tasks = d.tasks("truongphong")
    assert [(t["document_id"], t["kind"]) for t in tasks] == [
        (late_doc, "pass_on"), (due_draft, "review"), (soon_doc, "pass_on"), (open_draft, "review")]
    assert [t["overdue"] for t in tasks] == [True, False, False, False]
    r = d.get("truongphong", "/api/v1/tasks").json()
    assert r["total"] == 4 and r["overdue"] == 1

    # the leader sees nothing to assign any more; the drafter nothing to revise
    assert not [t for t in d.tasks("chutich") if t["kind"] == "assign"]
    assert d.tasks("chuyenvien") == []


def test_notifications_list_and_mark_read(client, as_user):
    d = Demo(client, as_user)
    for i in range(2):
        doc_id = d.draft(summary=f"Dự thảo số {i}")["id"]
        d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    page = d.get("truongphong", "/api/v1/notifications").json()
    assert page["unread"] == 2 and page["total"] == 2
    assert all(n["title"] == "Có văn bản chờ bạn xem xét" for n in page["items"])
    first = page["items"][0]["id"]
    r = d.post("truongphong", f"/api/v1/notifications/{first}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert d.get("truongphong", "/api/v1/notifications", params={"unread": True}).json()["total"] == 1
    assert d.post("chuyenvien", f"/api/v1/notifications/{first}/read").status_code == 404
    assert d.post("truongphong", "/api/v1/notifications/read-all").json() == {"marked": 1}
    assert d.get("truongphong", "/api/v1/notifications").json()["unread"] == 0


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _set_emails(env, emails: dict[str, str]) -> None:
    from sqlalchemy import select

    from ioffice.accounts.models import User

    with db_session(env) as s:
        for user in s.scalars(select(User).where(User.username.in_(list(emails)))):
            user.email = emails[user.username]


def test_email_reaches_a_local_smtp_server_after_commit(env):
    from api.app import create_app

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        _set_emails(env, {"truongphong": "ha.lt@yenkhanh.gov.vn", "chuyenvien": "binh.tv@yenkhanh.gov.vn"})
        app = create_app(env.settings(smtp_host="127.0.0.1", smtp_port=controller.port,
                                      smtp_from="ioffice@yenkhanh.gov.vn"))
        with TestClient(app, raise_server_exceptions=False) as client:
            d = Demo(client, lambda u: login(client, u))
            doc_id = d.draft(summary="Về việc tổ chức tuyên truyền pháp luật năm 2027")["id"]
            r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
            assert r.status_code == 201, r.text
            # a refused action queues nothing
            assert d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit",
                          {"stages": d.two_stage()}).status_code == 409
            r = d.post("truongphong", f"/api/v1/documents/{doc_id}/review",
                       {"decision": "return", "comment": "Đề nghị bổ sung kế hoạch chi tiết."})
            assert r.status_code == 200, r.text
            app.state.container.mailer.flush()
    finally:
        controller.stop()
    assert [(m[0], m[1]) for m in inbox.messages] == [
        ("ioffice@yenkhanh.gov.vn", ["ha.lt@yenkhanh.gov.vn"]),
        ("ioffice@yenkhanh.gov.vn", ["binh.tv@yenkhanh.gov.vn"])]
    first, second = (message_from_bytes(m[2]) for m in inbox.messages)
    assert str(make_header(decode_header(first["Subject"]))) == "[ioffice] Có văn bản chờ bạn xem xét"
    assert "Kính gửi Lê Thị Thu Hà" in first.get_payload(decode=True).decode("utf-8")
    body = second.get_payload(decode=True).decode("utf-8")
    assert "Dự thảo bị trả lại" in str(make_header(decode_header(second["Subject"])))
    assert "Đề nghị bổ sung kế hoạch chi tiết." in body and "tuyên truyền pháp luật" in body


def test_unreachable_smtp_never_fails_the_request_nor_leaks_secrets(env, caplog):
    from api.app import create_app

    _set_emails(env, {"truongphong": "ha.lt@yenkhanh.gov.vn"})
    app = create_app(env.settings(smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_user="mailer",
                                  smtp_password="s3cret-smtp-pw"))
    with caplog.at_level(logging.WARNING, logger="ioffice.mail"):
        with TestClient(app, raise_server_exceptions=False) as client:
            d = Demo(client, lambda u: login(client, u))
            doc_id = d.draft()["id"]
            r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
            assert r.status_code == 201, r.text
            app.state.container.mailer.flush()
            # the in-app notification is there all the same
            assert d.get("truongphong", "/api/v1/notifications").json()["unread"] == 1
    logs = caplog.text
    assert "not sent" in logs
    assert "s3cret-smtp-pw" not in logs and "ha.lt@" not in logs
