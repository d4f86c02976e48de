"""An administrator sets the agency's signature layout, level and seal image; an official uploads
their own signature image; signing then uses them."""
import io

from PIL import Image


def _png(colour=(31, 63, 191, 255)) -> bytes:
    img = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    for x in range(20, 280):
        img.putpixel((x, 60 + (x % 20) - 10), colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_admin_configures_layout_level_and_images(client, as_user, approved_draft):
    r = client.patch("/api/v1/organisation/settings", headers=as_user("admin"),
                     json={"signature_level": "B-T", "personal_box": [300, 100, 540, 250], "secret_series": False})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["personal_box"] == [300, 100, 540, 250]
    assert client.patch("/api/v1/organisation/settings", headers=as_user("vanthu"),
                        json={"signature_level": "B-B"}).status_code == 403
    bad = client.patch("/api/v1/organisation/settings", headers=as_user("admin"), json={"personal_box": [5, 5, 1, 1]})
    assert bad.status_code == 422
    assert client.patch("/api/v1/organisation/settings", headers=as_user("admin"),
                        json={"colour": "red"}).status_code == 422

    r = client.put("/api/v1/organisation/seal-image", headers=as_user("admin"),
                   files={"file": ("seal.png", _png((200, 20, 20, 255)), "image/png")})
    assert r.status_code == 200 and r.json()["settings"]["seal_image_sha256"]
    assert client.put("/api/v1/organisation/seal-image", headers=as_user("admin"),
                      files={"file": ("seal.png", b"GIF89a....", "image/png")}).status_code == 422

    me = client.get("/api/v1/auth/me", headers=as_user("chutich")).json()
    r = client.put(f"/api/v1/users/{me['id']}/signature-image", headers=as_user("chutich"),
                   files={"file": ("sig.png", _png(), "image/png")})
    assert r.status_code == 200, r.text
    other = client.get("/api/v1/auth/me", headers=as_user("truongphong")).json()
    assert client.put(f"/api/v1/users/{other['id']}/signature-image", headers=as_user("chutich"),
                      files={"file": ("sig.png", _png(), "image/png")}).status_code == 403

    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={})
    assert r.status_code == 201, r.text
    pdf = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    report = client.post("/api/v1/verify", files={"file": ("d.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "valid" and report["signatures"][0]["level"] == "B-T"
