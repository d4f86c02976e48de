"""Stamps go where the draft left room: a công văn and a quyết định drafted from the Decree 30 layout
(number and date left blank, signer block typed) go through review, signing and issue; the issued
PDF's words (poppler's ``pdftotext -bbox``) show the number and date in their blanks, nothing added
over the draft's text and one signer block; the authority line is rendered when the draft lacks it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from tests.support.decree30 import draft

from .conftest import approved_draft_factory

NAME = "Phạm Văn Đức"


def words(pdf: bytes, tmp_path: Path, tag: str) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) of page 1, top-left origin, as poppler reads the page (with
    what the signature fields draw)."""
    src = tmp_path / f"{tag}.pdf"
    src.write_bytes(pdf)
    out = tmp_path / f"{tag}.html"
    subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(src), str(out)], check=True)
    tree = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out.read_text("utf-8")))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    return [(w.text or "", float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), float(w.get("yMax")))
            for w in tree.iterfind(".//h:word", ns)]


def render(pdf: bytes, tmp_path: Path, tag: str) -> Path:
    src = tmp_path / f"{tag}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(src), str(tmp_path / tag)], check=True)
    return tmp_path / f"{tag}.png"


def _after(ws, text: str):
    return [w for w in ws if w[0] == text]


def _overlap(a, b) -> bool:
    return min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5


def _added(before, after):
    """The words of ``after`` that ``before`` does not have (what signing and issuing drew)."""
    pool = list(before)
    added = []
    for w in after:
        same = next((b for b in pool if b[0] == w[0] and abs(b[1] - w[1]) < 0.5 and abs(b[2] - w[2]) < 0.5), None)
        if same is None:
            added.append(w)
        else:
            pool.remove(same)
    return added


def _ink_between(png: Path, top: float, bottom: float, x0: float, x1: float) -> int:
    """Coloured (not grey) pixels in the band, coordinates in points (top-left origin)."""
    img = Image.open(png).convert("RGB")
    k = 60 / 72
    n = 0
    for y in range(int(top * k), int(bottom * k)):
        for x in range(int(x0 * k), int(x1 * k)):
            r, g, b = img.getpixel((x, y))
            if max(r, g, b) - min(r, g, b) > 60:
                n += 1
    return n


def _flow(client, as_user, pdf: bytes, **meta) -> tuple[dict, bytes, bytes]:
    doc = approved_draft_factory(client, as_user)(pdf=pdf, **meta)
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-B"})
    assert r.status_code == 201, r.text
    signed = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"))
    assert r.status_code == 200, r.text
    issued = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content
    return r.json(), signed, issued


@pytest.mark.parametrize("kind", ["cong_van", "quyet_dinh"])
def test_number_date_and_signature_go_into_the_drafts_blanks(client, as_user, tmp_path, kind):
    if kind == "cong_van":
        pdf = draft(kind="cong_van", symbol_suffix="/UBND-TP", authority=())  # the draft leaves TM. to us
        meta = {"doc_type": "Công văn", "summary": "V/v báo cáo kết quả công tác tư pháp năm 2026"}
    else:
        pdf = draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBND")  # TM. typed by the drafter
        meta = {"doc_type": "Quyết định", "summary": "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026"}
    out, signed, issued = _flow(client, as_user, pdf, **meta)
    number = out["number_display"]
    before = words(pdf, tmp_path, "draft")
    after = words(issued, tmp_path, "issued")
    added = _added(before, after)

    # the number sits in the blank of "Số:      /…": right of "Số:", left of the symbol, same line
    so = _after(before, "Số:")[0]
    suffix = next(w for w in before if w[0].startswith("/") and abs(w[2] - so[2]) < 1)
    num = [w for w in added if w[0] == number]
    assert len(num) == 1, added
    assert so[3] <= num[0][1] and num[0][3] <= suffix[1] and abs(num[0][2] - so[2]) < 3
    # day and month in the blanks of the date line
    issued_day = out["issued_date"]
    day, month = issued_day[8:10], str(int(issued_day[5:7])) if int(issued_day[5:7]) > 2 else issued_day[5:7]
    ngay = next(w for w in before if w[0] == "ngày" and abs(w[2] - so[2]) < 1)
    thang, nam = (next(w for w in before if w[0] == t and abs(w[2] - ngay[2]) < 1) for t in ("tháng", "năm"))
    got_day = [w for w in added if w[0] == day and ngay[3] <= w[1] and w[3] <= thang[1]]
    got_month = [w for w in added if w[0] == month and thang[3] <= w[1] and w[3] <= nam[1]]
    assert len(got_day) == 1 and len(got_month) == 1, added
    assert abs(got_day[0][2] - ngay[2]) < 3 and abs(got_month[0][2] - thang[2]) < 3
    # a single date line and a single "Số:" line: nothing printed twice
    assert len(_after(after, "Số:")) == 1 and len(_after(after, "ngày")) == len(_after(before, "ngày"))
    # one signer block: the position and the name appear as often as the draft typed them
    text_after = " ".join(w[0] for w in after)
    assert text_after.count("Đức") == " ".join(w[0] for w in before).count("Đức")
    assert len(_after(after, "TỊCH")) == len(_after(before, "TỊCH"))
    # TM. ỦY BAN NHÂN DÂN renders exactly once, whoever typed it
    assert text_after.count("TM.") == 1 and "TM. ỦY BAN NHÂN DÂN" in " ".join(w[0] for w in after)
    # nothing added overlaps the draft's text
    for a in added:
        for b in before:
            assert not _overlap(a, b), (a, b)
    # the signature image (blue) and the seal (red) sit between the position line and the name
    png = render(issued, tmp_path, f"issued-{kind}")
    pos = [w for w in before if w[0] == "TỊCH" and w[1] > 300][-1]
    name = [w for w in before if w[0] == "Đức"][-1]
    assert _ink_between(png, pos[4] + 2, name[2] - 2, 330, 540) > 300
    # and no colour strays over the body text above the signer block
    assert _ink_between(png, 90, pos[2] - 40, 0, 595) == 0


def test_authority_line_is_drawn_above_the_position_when_the_draft_lacks_it(client, as_user, tmp_path):
    pdf = draft(kind="cong_van", symbol_suffix="/UBND-TP", authority=())
    _, signed, _ = _flow(client, as_user, pdf, doc_type="Công văn", summary="V/v báo cáo")
    ws = words(signed, tmp_path, "signed")
    tm = _after(ws, "TM.")
    pos = [w for w in ws if w[0] == "CHỦ" and w[1] > 300][-1]
    assert len(tm) == 1 and tm[0][4] <= pos[2] + 1  # above the position line
    assert abs((tm[0][1] + _after(ws, "DÂN")[-1][3]) / 2 - (pos[1] + pos[3]) / 2) < 45  # same column


def test_no_room_for_the_signature_is_a_clear_409(client, as_user):
    # the drafter typed the name right under the position: nowhere to put the signature
    doc = approved_draft_factory(client, as_user)(pdf=draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBND", room=16))
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={"level": "B-B"})
    assert r.status_code == 409, r.text
    p = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "trang 1" in p["detail"] and "chữ ký" in p["detail"] and p["page"] == 1
    # nothing was signed or stored
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert got["status"] == "approved"


def test_a_draft_whose_symbol_differs_from_the_issued_one_is_refused_at_issue(client, as_user):
    doc = approved_draft_factory(client, as_user)(pdf=draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBNDX"))
    assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                       json={"level": "B-B"}).status_code == 201
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"))
    assert r.status_code == 409, r.text
    assert "/QĐ-UBNDX" in r.json()["detail"]
    # the number was not used: the next issue still gets 1
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert got["status"] == "signed" and got.get("number") in (None, 0)


def test_clerks_issuing_at_once_get_consecutive_numbers_each_stamped_in_its_own_blank(client, as_user, tmp_path):
    """The PDF work runs outside the counter's lock: documents issued at the same instant still get
    1, 2, 3 with no gap, and each issued PDF carries its own number in the blank."""
    import threading

    make = approved_draft_factory(client, as_user)
    docs = []
    for _ in range(3):
        doc = make(pdf=draft(kind="quyet_dinh", symbol_suffix="/QĐ-UBND"))
        assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                           json={"level": "B-B"}).status_code == 201
        docs.append(doc["id"])
    start = threading.Barrier(len(docs))
    results: dict[str, object] = {}

    def issue(doc_id: str) -> None:
        start.wait(timeout=60)
        results[doc_id] = client.post(f"/api/v1/documents/{doc_id}/issue", headers=as_user("vanthu"))

    threads = [threading.Thread(target=issue, args=(d,)) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results.values():
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    numbers = sorted(r.json()["number"] for r in results.values())  # type: ignore[attr-defined]
    assert numbers == [1, 2, 3]
    for doc_id, r in results.items():
        out = r.json()  # type: ignore[attr-defined]
        issued = client.get(f"/api/v1/documents/{doc_id}/content", headers=as_user("vanthu")).content
        ws = words(issued, tmp_path, f"issued-{doc_id}")
        so = _after(ws, "Số:")[0]
        line = [w[0] for w in ws if abs(w[2] - so[2]) < 3 and w[1] < 250]
        assert out["number_display"] in line and "/QĐ-UBND" in line, line
    reg = client.get(f"/api/v1/registers/outgoing/{results[docs[0]].json()['issued_date'][:4]}",  # type: ignore[attr-defined]
                     headers=as_user("vanthu")).json()
    assert len(reg["rows"]) == 3
