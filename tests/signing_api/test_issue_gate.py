"""Issue only what was signed, with the agency's own seal: the clerk cannot issue an approved
document before the approving leader signed it personally, the "ready to issue" task waits for
that signature, and the seal applied at issue is the one the admin uploaded."""
import io
import subprocess

from PIL import Image


def _problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def _issue_tasks(client, as_user, doc_id):
    r = client.get("/api/v1/tasks", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    return [t for t in r.json()["items"] if t["kind"] == "issue" and t["document_id"] == doc_id]


def test_issuing_needs_the_approving_leaders_personal_signature(client, as_user, approved_draft):
    doc = approved_draft()
    assert _issue_tasks(client, as_user, doc["id"]) == []
    p = _problem(client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu")), 409)
    assert "Phạm Văn Đức" in p["detail"] and "ký số" in p["detail"]

    # The clerk's own agency seal is no personal signature: still refused, still no task.
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("vanthu"), json={"kind": "seal",
                                                                                               "level": "B-B"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "signed"
    _problem(client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu")), 409)
    assert _issue_tasks(client, as_user, doc["id"]) == []

    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-B"})
    assert r.status_code == 201, r.text
    assert len(_issue_tasks(client, as_user, doc["id"])) == 1
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 1
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert got["signer_name"] == "Phạm Văn Đức"


def _green_seal() -> bytes:
    img = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    for x in range(240):
        for y in range(240):
            if (x - 120) ** 2 + (y - 120) ** 2 <= 110 ** 2:
                img.putpixel((x, y), (0, 190, 0, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _green_pixels(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "issued.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "page")], check=True)
    count = 0
    for png in sorted(tmp_path.glob("page*.png")):
        img = Image.open(png).convert("RGB")
        count += sum(1 for r, g, b in img.getdata() if g > 140 and r < 90 and b < 90)
    return count


def test_issue_seals_with_the_uploaded_seal_image(client, as_user, approved_draft, tmp_path):
    r = client.put("/api/v1/organisation/seal-image", headers=as_user("admin"),
                   files={"file": ("seal.png", _green_seal(), "image/png")})
    assert r.status_code == 200, r.text
    doc = approved_draft()
    before = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content
    (tmp_path / "a").mkdir()
    assert _green_pixels(before, tmp_path / "a") == 0
    assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                       json={"level": "B-B"}).status_code == 201
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    issued = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content
    (tmp_path / "b").mkdir()
    # The uploaded green seal is drawn on the page (the generated development seal is red).
    assert _green_pixels(issued, tmp_path / "b") > 100
