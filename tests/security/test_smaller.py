"""Smaller findings: CSV formula injection, bidi-spoofed file names, an empty route, the
development PKI endpoints in production."""
from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient


def test_register_csv_neutralises_formulas(client, as_user, upload):
    h = as_user("vanthu")
    doc = upload(summary="=HYPERLINK(\"http://evil\",\"bấm\")", number_symbol="+1/QĐ-UBND", issuing_body="@SUM(A1)",
                 doc_type="QĐ")
    r = client.post(f"/api/v1/documents/{doc['id']}/register", headers=h, json={})
    assert r.status_code in (200, 201), r.text
    year = r.json()["year"]
    got = client.get(f"/api/v1/registers/incoming/{year}", headers=h, params={"format": "csv"})
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert any("HYPERLINK" in c for c in cells)
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells), cells
    assert "'@SUM(A1)" in cells and "'+1/QĐ-UBND" in cells


def test_right_to_left_override_cannot_keep_an_exe_ending(client, as_user, upload):
    doc = upload(filename="hoa-don\u202efdp.exe")
    name = doc["filename"]
    assert not name.lower().endswith(".exe") and name.endswith(".pdf") and "\u202e" not in name
    r = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert ".exe" not in r.headers["content-disposition"].lower().rsplit(".", 1)[-1]


def test_an_empty_route_is_422_not_the_default_template(client, as_user, upload):
    h = as_user("chuyenvien")
    doc = upload("chuyenvien", direction="outgoing", doc_type="Quyết định")
    r = client.post(f"/api/v1/documents/{doc['id']}/submit", headers=h, json={"stages": []})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=h).json()["status"] == "draft"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_dev_pki_endpoints_are_rate_limited(env):
    from api.app import create_app

    with TestClient(create_app(env.settings(dev_pki_rate_limit_per_minute=3))) as c:
        codes = [c.get("/dev-pki/root.pem").status_code for _ in range(7)]
        assert codes.count(200) <= 6 and 429 in codes and set(codes) == {200, 429}, codes


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_dev_pki_endpoints_are_off_in_production(env, tmp_path):
    from api.app import create_app

    seal = tmp_path / "seal.p12"
    seal.write_bytes(b"not read at start-up")
    with TestClient(create_app(env.settings(tsa_url="http://tsa.invalid/tsr", seal_key=str(seal),
                                               secret_key="production-master-secret-from-the-environment"))) as c:
        assert c.get("/dev-pki/root.pem").status_code == 404
        assert c.post("/dev-pki/tsa", content=b"x").status_code in (404, 405)
        assert c.get("/dev-pki/ocsp/AAAA").status_code == 404
    with TestClient(create_app(env.settings())) as c:  # development: served
        assert c.get("/dev-pki/root.pem").status_code == 200
