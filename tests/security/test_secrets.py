"""Secrets at rest: separate keys per purpose (HKDF from the master secret), the master secret
outside the data directory in production, files readable by the service's user only."""
from __future__ import annotations

import stat
from datetime import timedelta

import jwt
import pytest

from tests.conftest import make_pdf


def _token(client, as_user, secret: bytes) -> str:
    me = client.get("/api/v1/auth/me", headers=as_user("admin")).json()
    from ioffice.kernel.db import utcnow

    claims = {"sub": me["id"], "org": me["organisation"]["id"], "ver": 0, "iat": utcnow(),
              "exp": utcnow() + timedelta(hours=1), "aud": "ioffice-api"}
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_token_forged_with_another_purposes_key_is_refused(client, as_user, settings):
    assert client.get("/api/v1/auth/me", headers=as_user("admin")).status_code == 200
    for key in (settings.secret, settings.pki_passphrase, settings.derive_key("ioffice/key-encryption/v1")):
        forged = _token(client, as_user, key)
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401, key
    genuine = _token(client, as_user, settings.token_key)  # the signing key itself works (sanity of the forgery)
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_production_takes_the_master_secret_from_outside_the_data_dir(env, tmp_path):
    seal = tmp_path / "seal.p12"
    prod = dict(tsa_url="http://tsa.invalid/tsr", seal_key=str(seal))
    with pytest.raises(ValueError, match="SECRET_KEY"):
        env.settings(**prod).secret
    with pytest.raises(ValueError, match="outside"):
        env.settings(**prod, secret_key_file=env.data_dir / "secret.key").secret
    outside = tmp_path / "master.secret"
    outside.write_text("a-master-secret-kept-by-the-operator\n")
    assert env.settings(**prod, secret_key_file=outside).secret == b"a-master-secret-kept-by-the-operator"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_data_files_are_readable_by_the_service_only(env, upload):
    from api.app import create_app

    data = env.data_dir
    data.chmod(0o755)
    (data / "ioffice.db").chmod(0o644)
    create_app(env.settings())
    upload(pdf=make_pdf("Tep moi"))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "ioffice.db").stat().st_mode) & 0o077 == 0
    blobs = [p for p in (data / "blobs").rglob("*") if p.is_file()]
    assert blobs
    for p in blobs + [data / "secret.key"]:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p, oct(p.stat().st_mode))
    for d in [p for p in (data / "blobs").rglob("*") if p.is_dir()]:
        assert stat.S_IMODE(d.stat().st_mode) & 0o077 == 0, d
