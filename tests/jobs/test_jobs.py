"""Background jobs (huey on the service's own database): B-LTA timestamp renewal of archived
documents, e-mail retried until the SMTP server takes it, queue depth in /metrics. The queue is
real (SQLite file / PostgreSQL tables); the tests run the worker's turn with ``run_pending`` so no
test waits on a clock."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import make_pdf
from tests.signing_api.conftest import approved_draft_factory


def doc_timestamps(pdf: bytes) -> list:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False).embedded_timestamp_signatures


def metric(client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_archived_b_lta_document_gets_a_new_document_timestamp_before_the_tsa_certificate_expires(client, as_user):
    from api.jobs import install

    doc = approved_draft_factory(client, as_user)(make_pdf("Quyet dinh luu tru", pages=1))
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                    json={"kind": "personal", "level": "B-LTA"})
    assert r.status_code == 201, r.text
    signed = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    first = doc_timestamps(signed)
    assert len(first) == 1
    tsa_expiry = first[0].signer_cert["tbs_certificate"]["validity"]["not_after"].native
    jobs = install(client.app.state.container)

    # The development TSA certificate lives for years: with the default window (180 days) the
    # daily job finds nothing to renew and the document keeps its version.
    assert tsa_expiry - datetime.now(UTC) > timedelta(days=180)
    jobs.renew_timestamps()  # what the scheduler enqueues once a day
    assert jobs.pending() == 1 and metric(client, "ioffice_jobs_queued") == 1
    assert jobs.run_pending() == 1 and jobs.pending() == 0
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()["versions"][-1][
        "kind"] == "signed"

    # A window reaching past the certificate's end: the archive is re-timestamped (the same run
    # as the daily job, started by hand from the command line).
    days = (tsa_expiry - datetime.now(UTC)).days + 30
    settings = client.app.state.container.settings
    run = subprocess.run([sys.executable, "-m", "api.cli", "renew-timestamps", "--days", str(days)],
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")},
                              "IOFFICE_DATA_DIR": str(settings.data_dir), "IOFFICE_DATABASE_URL": settings.db_url},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "gia hạn dấu thời gian 1, lỗi 0" in run.stdout, run.stdout
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "signed"
    assert [v["kind"] for v in got["versions"]][-2:] == ["signed", "timestamped"]
    renewed = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    assert renewed.startswith(signed)  # an incremental update: every earlier byte kept
    stamps = doc_timestamps(renewed)
    assert len(stamps) == 2 and stamps[-1].signed_revision > first[0].signed_revision
    # Validation still says valid: the signature, the first timestamp and the new one.
    report = client.post("/api/v1/verify", files={"file": ("renewed.pdf", renewed, "application/pdf")}).json()
    assert report["verdict"] == "valid", report
    assert [s["valid"] for s in report["signatures"]] == [True] * len(report["signatures"])
    # Recorded on the agency's audit chain, which still verifies.
    from sqlalchemy import select

    from ioffice.audit.models import AuditEvent
    from ioffice.audit.services import verify_chains

    with client.app.state.container.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "document.timestamp.renew")).all()
        assert [e.object_id for e in events] == [doc["id"]] and events[0].org_id is not None
        assert verify_chains(s)[1] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_mail_is_retried_until_the_smtp_server_takes_it(env):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import login
    from tests.support.workflow import Demo
    from tests.tasks.test_tasks_notifications import _set_emails

    port = _free_port()  # nothing listens yet: the SMTP server is down
    _set_emails(env, {"truongphong": "ha.lt@yenkhanh.gov.vn"})
    app = create_app(env.settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="ioffice@yenkhanh.gov.vn",
                                  mail_retry_delay_seconds=300))
    inbox = _Inbox()
    with TestClient(app, raise_server_exceptions=False) as client:
        d = Demo(client, lambda u: login(client, u))
        doc_id = d.draft()["id"]
        r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
        assert r.status_code == 201, r.text
        jobs = app.state.container.jobs
        assert jobs.pending() == 1
        assert jobs.run_pending() == 1  # the attempt fails...
        assert jobs.pending() == 0 and jobs.scheduled() == 1  # ...and is scheduled again, not lost
        assert metric(client, "ioffice_jobs_scheduled") == 1
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            # not due yet: nothing sent before the retry delay
            assert jobs.run_scheduled(datetime.now(UTC) + timedelta(seconds=10)) == 0
            assert jobs.run_scheduled(datetime.now(UTC) + timedelta(seconds=301)) == 1
        finally:
            controller.stop()
        assert jobs.scheduled() == 0 and jobs.pending() == 0
    assert [m[1] for m in inbox.messages] == [["ha.lt@yenkhanh.gov.vn"]]
