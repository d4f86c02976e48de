"""Batch signing under one authorisation: one click for the server key, one CSC authorisation for
N hashes, one plugin session for the token. Each document is signed completely or not at all;
one failure does not undo the others."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import make_pdf

from .conftest import wait_until
from .test_token_plugins import open_sign_page, setup_token_official, verify


def drafts(approved_draft, n: int) -> list[dict]:
    return [approved_draft(make_pdf(f"Du thao so {i}", pages=1), summary=f"Văn bản số {i}") for i in range(n)]


def snapshot(client, as_user, doc_id: str) -> dict:
    got = client.get(f"/api/v1/documents/{doc_id}", headers=as_user("chutich")).json()
    return {"status": got["status"], "current": got["current_version_id"], "versions": [v["id"] for v in got["versions"]]}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_server_key_batch_signs_nine_and_leaves_the_changed_one_untouched(client, as_user, approved_draft):
    docs = drafts(approved_draft, 10)
    changed = docs[4]["id"]
    # after approval the drafter uploads another version: the approved version is no longer current
    r = client.post(f"/api/v1/documents/{changed}/versions", headers=as_user("chuyenvien"),
                    files={"file": ("v2.pdf", make_pdf("Ban sua doi"), "application/pdf")})
    assert r.status_code == 201, r.text
    before = snapshot(client, as_user, changed)

    r = client.post("/api/v1/signing-batches", headers=as_user("chutich"),
                    json={"document_ids": [d["id"] for d in docs], "kind": "personal"})
    # accepted at once: a background job signs the documents, the batch status shows the progress
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "running" and started["method"] == "server"
    assert {x["status"] for x in started["results"]} == {"pending"}
    assert snapshot(client, as_user, docs[0]["id"])["status"] != "signed"
    assert client.app.state.container.jobs.pending() == 1
    assert client.app.state.container.jobs.run_pending() == 1  # the worker's turn
    batch = client.get(f"/api/v1/signing-batches/{started['id']}", headers=as_user("chutich")).json()
    assert batch["status"] == "done" and batch["finished_at"]
    by_doc = {x["document_id"]: x for x in batch["results"]}
    assert [by_doc[d["id"]]["status"] for d in docs].count("signed") == 9
    assert by_doc[changed]["status"] == "failed"
    assert by_doc[changed]["detail"]  # a Vietnamese reason
    assert snapshot(client, as_user, changed) == before
    for d in docs:
        if d["id"] != changed:
            assert snapshot(client, as_user, d["id"])["status"] == "signed"
    again = client.get(f"/api/v1/signing-batches/{batch['id']}", headers=as_user("chutich")).json()
    assert again["results"] == batch["results"]
    # another user cannot read the leader's batch
    assert client.get(f"/api/v1/signing-batches/{batch['id']}", headers=as_user("vanthu")).status_code == 404


def test_batch_input_is_checked(client, as_user):
    r = client.post("/api/v1/signing-batches", headers=as_user("chutich"), json={"document_ids": [], "kind": "personal"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/api/v1/signing-batches", headers=as_user("chutich"), json={"document_ids": ["a", "a"]})
    assert r.status_code == 422 and "lặp" in r.json()["detail"]
    r = client.post("/api/v1/signing-batches", headers=as_user("chuyenvien"), json={"document_ids": ["a"]})
    assert r.status_code == 403


@pytest.mark.slow
def test_remote_batch_of_ten_under_one_csc_authorisation(remote_settings, csc_service):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import login
    from tests.signing_api.conftest import approved_draft_factory

    phone = csc_service.phone
    with TestClient(create_app(remote_settings)) as client:
        cache: dict = {}

        def as_user(u):
            return cache.setdefault(u, login(client, u))

        from .test_remote import setup_remote

        setup_remote(client, as_user, "smartca")
        docs = drafts(approved_draft_factory(client, as_user), 10)
        calls, signs = phone.authorize_calls, phone.sign_hash_calls
        r = client.post("/api/v1/signing-batches", headers=as_user("chutich"),
                        json={"document_ids": [d["id"] for d in docs], "kind": "personal"})
        assert r.status_code == 202, r.text
        bid = r.json()["id"]
        batch = wait_until(lambda: (lambda b: b if b["status"] == "done" else None)(
            client.get(f"/api/v1/signing-batches/{bid}", headers=as_user("chutich")).json()), what="the batch")
        assert [x["status"] for x in batch["results"]] == ["signed"] * 10, batch
        assert phone.authorize_calls - calls == 1 and phone.num_signatures[-1] == 10  # one SAD for 10 hashes
        assert phone.sign_hash_calls - signs == 1  # one signatures/signHash call
        pdf = client.get(f"/api/v1/documents/{docs[3]['id']}/content", headers=as_user("chutich")).content
        report = verify(client, pdf)
        assert report["verdict"] == "valid" and report["trusted"] and report["signatures"][0]["level"] == "B-LT"


@pytest.mark.slow
def test_token_batch_of_ten_in_one_plugin_session(live_server, browser, usb_token, client, as_user, approved_draft):
    setup_token_official(client, as_user, usb_token)
    docs = drafts(approved_draft, 10)
    before = usb_token.signed_count("vnpt")
    bearer = as_user("chutich")["Authorization"].split(" ", 1)[1]
    endpoint = quote(f"wss://127.0.0.1:{usb_token.plugins['vnpt']}", safe="")
    ids = ",".join(d["id"] for d in docs)
    page, errors = open_sign_page(browser, live_server, bearer,
                                  f"/sign/{docs[0]['id']}?plugin=vnpt&endpoint={endpoint}&documents={ids}")
    page.click("#sign-button")
    page.wait_for_selector("#sign[data-state=done], #sign[data-state=error]", timeout=300_000)
    assert page.text_content("#status") == "Đã ký 10/10 văn bản.", errors
    page.close()
    assert usb_token.signed_count("vnpt") == before + 10
    for d in docs:
        assert snapshot(client, as_user, d["id"])["status"] == "signed"
    report = verify(client, client.get(f"/api/v1/documents/{docs[7]['id']}/content", headers=as_user("chutich")).content)
    assert report["verdict"] == "valid" and report["signatures"][0]["level"] == "B-LT"
