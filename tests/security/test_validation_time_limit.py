"""Public validation of a document with many signatures holds its time limit
(IOFFICE_PUBLIC_VALIDATION_TIMEOUT_SECONDS): past it the answer is a report saying the analysis
took too long ("quá thời gian"), not a request that runs on."""
from __future__ import annotations

import pytest

from tests.support.pdfs import make_pdf
from tests.validation.builders import sign
from tests.validation.pki import build_pki


@pytest.fixture(scope="module")
def many_signatures() -> bytes:
    """30 PAdES B-T signatures, one incremental revision each."""
    pki = build_pki()
    pdf = make_pdf()
    for i in range(30):
        pdf = sign(pdf, pki, field=f"ChuKy{i + 1}", tsa=True)
    return pdf


def _verify(env, pdf: bytes, **settings) -> dict:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(env.settings(**settings)), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/verify", files={"file": ("nhieu-chu-ky.pdf", pdf, "application/pdf")})
        page = c.post("/verify", files={"file": ("nhieu-chu-ky.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    assert page.status_code == 200
    return {"report": r.json(), "page": page.text}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_many_signatures_past_the_limit_get_a_time_limit_verdict(env, many_signatures):
    out = _verify(env, many_signatures, public_validation_timeout_seconds=0.1)
    report = out["report"]
    assert report["verdict"] == "unreadable"
    assert any("quá thời gian" in p for p in report["problems"]), report
    assert "quá thời gian" in out["page"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_same_document_within_the_default_limit_is_validated(env, many_signatures):
    report = _verify(env, many_signatures)["report"]
    assert report["verdict"] != "unreadable"
    assert len(report["signatures"]) == 30
