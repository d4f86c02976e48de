"""Duplicates are caught however the clerk (or the sender) wrote the issuer and the number/symbol."""
from __future__ import annotations

import pytest

from ioffice.registers.dupkey import issuer_key, symbol_key

SAME_ISSUER = [
    ("UBND xã Vân Xuân", "Ủy ban nhân dân xã Vân Xuân"),
    ("UBND xã Vân Xuân", "Uỷ ban Nhân dân  XÃ VÂN XUÂN"),
    ("HĐND huyện Yên Khánh", "Hội đồng nhân dân huyện Yên Khánh"),
    ("HDND huyen Yen Khanh", "Hội đồng nhân dân huyện Yên Khánh"),
    ("Sở Tư pháp tỉnh Ninh Bình", "STP tỉnh Ninh Bình"),
    ("Sở Kế hoạch và Đầu tư", "SKHĐT"),
    ("UBND TP. Hà Nội", "Ủy ban nhân dân thành phố Hà Nội"),
]
DIFFERENT_ISSUER = [
    ("UBND xã Vân Xuân", "HĐND xã Vân Xuân"),
    ("UBND xã Vân Xuân", "UBND xã Vân Hải"),
    ("Sở Tư pháp", "Sở Tài chính"),
]


@pytest.mark.parametrize(("a", "b"), SAME_ISSUER)
def test_same_issuer_written_differently(a, b):
    assert issuer_key(a) == issuer_key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_ISSUER)
def test_different_issuers_stay_apart(a, b):
    assert issuer_key(a) != issuer_key(b)


def test_number_symbol_spacing_case_dashes_and_leading_zeros():
    assert symbol_key("245 / UBND-VX") == symbol_key("245/UBND-VX") == symbol_key("245/ubnd – vx")
    assert symbol_key("05/QĐ-UBND") == symbol_key("5/qd-ubnd")
    assert symbol_key("245/UBND-VX") != symbol_key("246/UBND-VX")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_register_flags_a_duplicate_sent_with_the_full_name(client, as_user, upload):
    base = dict(direction="incoming", doc_type="Công văn", issued_date="2026-03-02")
    first = upload(summary="Về việc làm đường", number_symbol="245/UBND-VX",
                   issuing_body="UBND xã Vân Xuân", **base)["id"]
    assert client.post(f"/api/v1/documents/{first}/register", headers=as_user("vanthu")).status_code == 200
    second = upload(summary="Về việc làm đường (bản gửi qua trục)", number_symbol="245 / ubnd-vx",
                    issuing_body="Ủy ban nhân dân xã Vân Xuân", **base)["id"]
    r = client.post(f"/api/v1/documents/{second}/register", headers=as_user("vanthu"))
    assert r.status_code == 409, r.text
    assert r.json()["duplicate_of"] == first and "trùng" in r.json()["detail"]
    # another number from the same issuer is not a duplicate
    third = upload(summary="Về việc khác", number_symbol="246/UBND-VX",
                   issuing_body="Ủy ban nhân dân xã Vân Xuân", **base)["id"]
    assert client.post(f"/api/v1/documents/{third}/register", headers=as_user("vanthu")).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_recomputes_the_keys_of_registered_documents(client, as_user, upload, env):
    """A document registered before this normalisation (its key kept the full name) is found
    again once the data migration has run."""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import text

    from ioffice.kernel.db import make_engine

    base = dict(direction="incoming", doc_type="Công văn", issued_date="2026-03-02")
    first = upload(summary="Về việc làm đường", number_symbol="245/UBND-VX",
                   issuing_body="Ủy ban nhân dân xã Vân Xuân", **base)["id"]
    assert client.post(f"/api/v1/documents/{first}/register", headers=as_user("vanthu")).status_code == 200
    engine = make_engine(env.database_url)
    try:
        with engine.begin() as conn:  # the key as the earlier code computed it
            conn.execute(text("UPDATE incoming_register SET duplicate_key = :k WHERE document_id = :d"),
                         {"k": "uy ban nhan dan xa van xuan|245/ubnd-vx|2026-03-02", "d": first})
        path = Path(__file__).parents[2] / "ioffice/migrations/versions/0008_incoming_duplicate_keys.py"
        spec = importlib.util.spec_from_file_location("m0008", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            module.upgrade()
    finally:
        engine.dispose()
    second = upload(summary="Về việc làm đường (bản chụp)", number_symbol="245/UBND-VX",
                    issuing_body="UBND xã Vân Xuân", **base)["id"]
    r = client.post(f"/api/v1/documents/{second}/register", headers=as_user("vanthu"))
    assert r.status_code == 409 and r.json()["duplicate_of"] == first, r.text
