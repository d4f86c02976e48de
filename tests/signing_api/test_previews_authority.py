"""A preview before committing (page images of what signing or issuing would produce, nothing stored)
and the Decree 30 authority lines (TM., Q., KT., TL., TUQ.) chosen from role, delegation and agency,
overridable per signature."""
from __future__ import annotations

import base64
import io
import subprocess

from PIL import Image, ImageChops

from tests.conftest import db_session
from tests.support.agencies import demo_org
from tests.support.decree30 import draft

from .conftest import approved_draft_factory
from .test_decree30_layout import words


def _png(page: dict) -> Image.Image:
    assert page["png"].startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(page["png"].split(",", 1)[1]))).convert("RGB")


def _coloured(img: Image.Image, pred) -> int:
    return sum(1 for p in img.getdata() if pred(*p))


def _blue(r, g, b):
    return b > 120 and b - r > 60 and b - g > 40


def _red(r, g, b):
    return r > 150 and r - g > 80 and r - b > 80


def _versions(client, as_user, doc_id) -> int:
    r = client.get(f"/api/v1/documents/{doc_id}", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    return len(r.json()["versions"])


def test_sign_and_issue_previews_show_the_result_and_store_nothing(client, as_user, tmp_path):
    doc = approved_draft_factory(client, as_user)(pdf=draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBND"))
    n = _versions(client, as_user, doc["id"])
    url = f"/api/v1/documents/{doc['id']}"
    # only the official may preview his signature; the specialist may not
    assert client.post(f"{url}/sign/preview", headers=as_user("chuyenvien"), json={}).status_code == 403
    r = client.post(f"{url}/sign/preview", headers=as_user("chutich"), json={"dpi": 72})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["page_count"] == 1 and len(out["pages"]) == 1
    img = _png(out["pages"][0])
    assert abs(img.size[0] - 595) <= 1 and abs(img.size[1] - 842) <= 1  # A4 at 72 dpi
    assert _coloured(img, _blue) > 200 and _coloured(img, _red) == 0  # the signature, no seal yet
    got = client.get(url, headers=as_user("vanthu")).json()
    assert got["status"] == "approved" and _versions(client, as_user, doc["id"]) == n

    # the clerk cannot preview issuing before the leader signed (the same 409 as issuing)
    assert client.post(f"{url}/issue/preview", headers=as_user("vanthu"), json={}).status_code == 409
    assert client.post(f"{url}/sign", headers=as_user("chutich"), json={"level": "B-B"}).status_code == 201
    assert client.post(f"{url}/issue/preview", headers=as_user("chutich"), json={}).status_code == 403
    r = client.post(f"{url}/issue/preview", headers=as_user("vanthu"), json={"dpi": 72})
    assert r.status_code == 200, r.text
    prev = r.json()
    assert prev["number_symbol"] == "01/QĐ-UBND"
    preview_img = _png(prev["pages"][0])
    assert _coloured(preview_img, _red) > 300  # the seal
    got = client.get(url, headers=as_user("vanthu")).json()
    assert got["status"] == "signed" and not got.get("number_symbol")

    # issuing gives what the preview showed: the same number, the same page to the pixel (almost)
    r = client.post(f"{url}/issue", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    assert r.json()["symbol"] == prev["number_symbol"]
    issued = client.get(f"{url}/content", headers=as_user("vanthu")).content
    src = tmp_path / "issued.pdf"
    src.write_bytes(issued)
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-singlefile", str(src), str(tmp_path / "issued")], check=True)
    real = Image.open(tmp_path / "issued.png").convert("RGB")
    preview_img.save(tmp_path / "preview.png")
    diff = ImageChops.difference(real, preview_img).convert("L")
    differing = sum(1 for v in diff.getdata() if v > 96)
    assert differing < 0.002 * real.size[0] * real.size[1], differing


def test_no_room_shows_in_the_preview_too(client, as_user):
    doc = approved_draft_factory(client, as_user)(pdf=draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBND", room=16))
    r = client.post(f"/api/v1/documents/{doc['id']}/sign/preview", headers=as_user("chutich"), json={})
    assert r.status_code == 409 and r.json()["page"] == 1


def test_authority_override_per_signature(client, as_user, tmp_path):
    make = approved_draft_factory(client, as_user)
    doc = make(pdf=draft(kind="cong_van", authority=()), doc_type="Công văn", summary="V/v báo cáo")
    url = f"/api/v1/documents/{doc['id']}/sign"
    r = client.post(url, headers=as_user("chutich"), json={"level": "B-B", "authority": "THAY MẶT"})
    assert r.status_code == 422 and "TM." in r.json()["detail"]
    # "" signs in one's own right: no authority line drawn
    r = client.post(url, headers=as_user("chutich"), json={"level": "B-B", "authority": ""})
    assert r.status_code == 201, r.text
    signed = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content
    assert "TM." not in " ".join(w[0] for w in words(signed, tmp_path, "plain"))
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert got["signer_competence"] is None


def test_authority_lines_from_role_delegation_and_agency(env, client, as_user):
    from ioffice.accounts.models import User
    from ioffice.signatures.authority import compose

    with db_session(env) as s:
        org = demo_org(s)
        users = {u.username: u for u in s.query(User).filter(User.org_id == org.id)}
        chutich, truongphong = users["chutich"], users["truongphong"]
        # the chairman of a People's Committee signs for the committee
        assert compose(s, org=org, user=chutich, delegated=None) == ("TM. ỦY BAN NHÂN DÂN", "Chủ tịch")
        # a deputy signing through a KT. delegation: TM. then KT.
        assert compose(s, org=org, user=chutich, delegated="KT. CHỦ TỊCH")[0] == "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH"
        # TUQ. is never under TM.
        assert compose(s, org=org, user=chutich, delegated="TUQ. CHỦ TỊCH")[0] == "TUQ. CHỦ TỊCH"
        # a unit head signing in their own right: TL. (the head's position)
        assert compose(s, org=org, user=truongphong, delegated=None) == ("TL. CHỦ TỊCH", "Trưởng phòng")
        # an acting chairman: Q. before the position, "Quyền" dropped
        chutich.position = "Quyền Chủ tịch"
        authority, position = compose(s, org=org, user=chutich, delegated=None)
        assert authority == "TM. ỦY BAN NHÂN DÂN\nQ." and position == "Chủ tịch"
        from signing.appearance.placement import _authority_lines

        assert _authority_lines(authority, position) == ["TM. ỦY BAN NHÂN DÂN", "Q. CHỦ TỊCH"]
        # an agency that is no collective body: no TM.; its own setting can name one
        org.name = "Sở Tư pháp tỉnh Ninh Bình"
        chutich.position = "Giám đốc"
        assert compose(s, org=org, user=chutich, delegated=None) == (None, "Giám đốc")
        org.settings = {**(org.settings or {}), "collective_name": "Ban Chỉ đạo"}
        assert compose(s, org=org, user=chutich, delegated=None)[0] == "TM. BAN CHỈ ĐẠO"
        s.rollback()
