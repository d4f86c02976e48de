"""Hostile or absurd input gets a 4xx problem+json and changes nothing (never a 500)."""
from __future__ import annotations

import io
import json
import logging
import threading

import pytest
from sqlalchemy import func, select, text

from tests.conftest import db_session, make_pdf

PROBLEM = "application/problem+json"


def _problem(r, *codes):
    assert r.status_code in codes, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"]


def _counts(env):
    from ioffice.documents.models import Document

    with db_session(env) as s:
        return s.scalar(select(func.count()).select_from(Document))


def _blobs(env):
    return sorted(p for p in (env.data_dir / "blobs").rglob("*") if p.is_file())


def _post_doc(client, headers, meta, pdf=None, filename="van-ban.pdf"):
    return client.post("/api/v1/documents", headers=headers, files={"file": (filename, pdf or make_pdf(), "application/pdf")},
                       data={"metadata": meta if isinstance(meta, str) else json.dumps(meta, ensure_ascii=False)})


META = {"direction": "incoming", "doc_type": "Công văn", "summary": "Về việc thử nghiệm"}


def test_huge_offsets_and_far_dates_are_422(client, as_user):
    h = as_user("vanthu")
    _problem(client.get("/api/v1/documents", headers=h, params={"offset": 2 ** 63}), 422)
    _problem(client.get("/api/v1/notifications", headers=h, params={"offset": 2 ** 63}), 422)
    r = client.get("/api/v1/documents", headers=h, params={"date_to": "9999-12-31", "date_from": "0001-01-01"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        _problem(r, 422)
    h = as_user("chutich")
    for a, b in (("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31"), ("0001-01-01", "9999-12-31")):
        _problem(client.get("/api/v1/reports/follow-up", headers=h, params={"from": a, "to": b}), 422)


def test_absurd_metadata_is_refused_without_leaving_a_blob(env, client, as_user):
    h = as_user("vanthu")
    before = _blobs(env)
    deep = "[" * 100_000 + "]" * 100_000
    _problem(_post_doc(client, h, '{"direction": "incoming", "x": ' + deep + "}"), 422)
    _problem(_post_doc(client, h, {**META, "drafting_unit_id": "doesnotexist"}), 404, 422)
    _problem(_post_doc(client, h, {**META, "summary": "có ký tự NUL \x00 ở giữa"}), 422)
    # a unit of another agency
    from ioffice import accounts
    from ioffice.kernel.caller import Caller

    with db_session(env) as s:
        other = accounts.create_organisation(s, caller=Caller(username="system"), name="UBND xã khác", abbreviation="UBNDX")
        unit = accounts.create_unit(s, caller=Caller(username="system"), org_id=other.id, name="Văn phòng", abbreviation="VP")
        foreign_unit = unit.id
    _problem(_post_doc(client, h, {**META, "drafting_unit_id": foreign_unit}), 404, 422)
    assert _counts(env) == 0
    assert _blobs(env) == before  # nothing orphaned


def test_nul_bytes_in_any_text_field_are_422(client, as_user):
    r = client.post("/api/v1/users", headers=as_user("admin"),
                    json={"username": "nul.user", "full_name": "A\x00B", "password": "password-123", "roles": ["clerk"]})
    _problem(r, 422)
    _problem(client.get("/api/v1/documents", headers=as_user("vanthu"), params={"q": "a\x00b"}), 422)


def test_agency_settings_refuse_absurd_boxes_and_long_series(client, as_user):
    h = as_user("admin")
    for box in ([0, 0, 1e300, 1e300], [0, 0, 1e308 * 10, 100], [0, 0, 100, 100000]):
        r = client.patch("/api/v1/organisation/settings", headers=h,
                         content=json.dumps({"personal_box": box}).replace("Infinity", "1e999"),
                         )
        _problem(r, 422)
    _problem(client.patch("/api/v1/organisation/settings", headers=h,
                          json={"outgoing_series": {"QĐ": "Q" * 500}}), 422)
    assert client.get("/api/v1/organisation", headers=h).json()["settings"].get("personal_box") is None


def test_a_giant_signature_image_is_refused(client, as_user):
    from PIL import Image

    img = Image.new("1", (12000, 12000), 0)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    me = client.get("/api/v1/auth/me", headers=as_user("chutich")).json()
    r = client.put(f"/api/v1/users/{me['id']}/signature-image", headers=as_user("chutich"),
                   files={"file": ("sig.png", buf.getvalue(), "image/png")})
    _problem(r, 422)
    assert "điểm ảnh" in r.json()["detail"]


def _lying_page_count() -> bytes:
    pdf = make_pdf()
    return pdf.replace(b"/Count 1", b"/Count 999999999")


def _self_referencing_xref() -> bytes:
    """A valid PDF with an incremental update whose trailer's /Prev points at itself."""
    import re

    pdf = make_pdf()
    root = re.search(rb"/Root (\d+ 0 R)", pdf).group(1)
    offset = len(pdf)
    update = (b"xref\n0 0\ntrailer\n<< /Size 8 /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (root, offset, offset))
    return pdf + update


@pytest.mark.parametrize("make", [_lying_page_count, _self_referencing_xref])
def test_unsignable_pdfs_are_refused_at_intake(env, client, as_user, make):
    pdf = make()
    assert b"/Count 999999999" in pdf or b"/Prev" in pdf
    r = _post_doc(client, as_user("vanthu"), META, pdf=pdf)
    _problem(r, 422)
    assert _counts(env) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite serialises writers: no window
def test_two_admins_creating_the_same_username_at_once(env, client, as_user, caplog):
    """The second insert waits on the first's unique index entry, then gets 409; the log never shows
    the password hash."""
    from ioffice import accounts
    from ioffice.accounts.models import Organisation
    from ioffice.kernel.caller import Caller

    h = as_user("admin")
    body = {"username": "trung.ten", "full_name": "Người trùng tên", "password": "password-123", "roles": ["clerk"]}
    with db_session(env) as s:
        org = s.scalars(select(Organisation)).first()
        accounts.create_user(s, caller=Caller(username="admin2"), org_id=org.id, username="trung.ten",
                             full_name="Người trùng tên", password="password-456", roles=["clerk"])
        s.flush()  # row inserted, transaction open: the HTTP request will block on it
        result = {}
        caplog.set_level(logging.DEBUG)
        t = threading.Thread(target=lambda: result.setdefault("r", client.post("/api/v1/users", headers=h, json=body)))
        t.start()
        for _ in range(3000):  # wait (bounded) until the request is blocked on our row lock
            waiting = s.connection().execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )).scalar()
            if waiting or not t.is_alive():
                break
            threading.Event().wait(0.01)
    t.join(60)
    r = result["r"]
    _problem(r, 409)
    assert "$argon2" not in caplog.text and "password" not in caplog.text.lower()
