"""Helpers shared by the workflow tests: demo user/unit ids, document shortcuts over HTTP."""
from __future__ import annotations

import json

from ..conftest import db_session, make_pdf  # noqa: F401  (db_session re-exported)


class Demo:
    """Ids of the demo agency's users and units, read through the API."""

    def __init__(self, client, as_user):
        self.client, self.as_user = client, as_user
        users = client.get("/api/v1/users", headers=as_user("admin")).json()
        self.user = {u["username"]: u["id"] for u in users}
        units = client.get("/api/v1/units", headers=as_user("admin")).json()
        self.unit = {u["abbreviation"]: u["id"] for u in units}

    def post(self, username: str, path: str, body: dict | None = None, **kw):
        return self.client.post(path, headers=self.as_user(username), json=body or {}, **kw)

    def get(self, username: str, path: str, **kw):
        return self.client.get(path, headers=self.as_user(username), **kw)

    def draft(self, username: str = "chuyenvien", **meta) -> dict:
        metadata = {"direction": "outgoing", "doc_type": "Công văn", "summary": "Về việc báo cáo công tác tư pháp"}
        metadata.update(meta)
        r = self.client.post("/api/v1/documents", headers=self.as_user(username),
                             files={"file": ("du-thao.pdf", make_pdf("Du thao v1"), "application/pdf")},
                             data={"metadata": json.dumps(metadata, ensure_ascii=False)})
        assert r.status_code == 201, r.text
        return r.json()

    def new_version(self, username: str, doc_id: str, text: str, **form):
        return self.client.post(f"/api/v1/documents/{doc_id}/versions", headers=self.as_user(username),
                                files={"file": ("du-thao.pdf", make_pdf(text), "application/pdf")}, data=form)

    def tasks(self, username: str) -> list[dict]:
        r = self.get(username, "/api/v1/tasks")
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def workflow(self, doc_id: str, username: str = "vanthu") -> dict:
        r = self.get(username, f"/api/v1/documents/{doc_id}/workflow")
        assert r.status_code == 200, r.text
        return r.json()

    def two_stage(self) -> list[dict]:
        """Unit head of the drafter's unit, then the leader."""
        return [{"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True},
                {"name": "Lãnh đạo phê duyệt", "reviewer_ids": [self.user["chutich"]]}]


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()
