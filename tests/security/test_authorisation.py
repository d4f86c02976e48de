"""Authorisation that cannot be side-stepped: an Idempotency-Key belongs to its caller, operation
and document; replaying someone else's key never returns their result."""
from __future__ import annotations

import pytest

from tests.signing_api.conftest import approved_draft_factory


@pytest.fixture
def approved_draft(client, as_user):
    return approved_draft_factory(client, as_user)


def test_someone_elses_idempotency_key_does_not_return_their_signature(client, as_user, approved_draft):
    doc = approved_draft()
    key = {"Idempotency-Key": "leader-key-1"}
    first = client.post(f"/api/v1/documents/{doc['id']}/sign", headers={**as_user("chutich"), **key}, json={})
    assert first.status_code == 201, first.text
    signed_version = first.json()["id"]
    # the leader's own retry replays
    again = client.post(f"/api/v1/documents/{doc['id']}/sign", headers={**as_user("chutich"), **key}, json={})
    assert again.status_code == 200 and again.json()["id"] == signed_version and again.json()["replayed"] is True
    for who in ("admin", "chungthuc", "chuyenvien", "vanthu", "truongphong"):
        r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers={**as_user(who), **key}, json={})
        assert r.status_code in (403, 409), (who, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert signed_version not in r.text
    # the clerk asking for a seal with the leader's key is told, not handed the leader's version
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers={**as_user("vanthu"), **key}, json={"kind": "seal"})
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["detail"]
    # the leader's key for another operation on the same document is refused as well
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers={**as_user("chutich"), **key}, json={"kind": "seal"})
    assert r.status_code in (403, 409) and signed_version not in r.text
