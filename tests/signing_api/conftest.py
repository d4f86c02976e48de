import json

import pytest

from tests.conftest import make_pdf

ROUTE = [
    {"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True},
    {"name": "Chủ tịch phê duyệt", "roles": ["leader"]},
]


def approved_draft_factory(client, as_user):
    """make(pdf=None, **metadata) → an outgoing draft of the specialist, reviewed by the unit head
    and approved by the leader (the document JSON)."""

    def make(pdf: bytes | None = None, **meta) -> dict:
        metadata = {"direction": "outgoing", "doc_type": "Quyết định",
                    "summary": "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026"}
        metadata.update(meta)
        r = client.post("/api/v1/documents", headers=as_user("chuyenvien"),
                        files={"file": ("du-thao.pdf", pdf or make_pdf("Du thao quyet dinh", pages=2),
                                        "application/pdf")},
                        data={"metadata": json.dumps(metadata, ensure_ascii=False)})
        assert r.status_code == 201, r.text
        doc = r.json()
        r = client.post(f"/api/v1/documents/{doc['id']}/submit", headers=as_user("chuyenvien"), json={"stages": ROUTE})
        assert r.status_code == 201, r.text
        for who in ("truongphong", "chutich"):
            r = client.post(f"/api/v1/documents/{doc['id']}/review", headers=as_user(who),
                            json={"decision": "approve", "comment": "Đồng ý"})
            assert r.status_code == 200, r.text
        got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
        assert got["status"] == "approved"
        return got

    return make


@pytest.fixture
def approved_draft(client, as_user):
    return approved_draft_factory(client, as_user)
