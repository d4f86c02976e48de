"""`ioffice init --no-dev-pki`: the production path creates the database and nothing else — no
development PKI, TSA keys or demo password — and the service it leaves runs without them."""
from __future__ import annotations

import pytest

from api.app import create_app
from tests.deploy.test_first_setup import _one_line_error, empty_install, ioffice  # noqa: F401


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_init_without_development_pki_generates_no_keys(empty_install, tmp_path, monkeypatch):  # noqa: F811
    env = empty_install
    r = ioffice(env, "init", "--no-dev-pki")
    assert r.returncode == 0, r.stderr
    assert "--no-dev-pki" in r.stdout and "ioffice org create" in r.stdout
    data = tmp_path / "data"
    assert not (data / "pki").exists()
    assert not (data / "demo-password.txt").exists()
    assert not list(data.rglob("*.p12")) and not list(data.rglob("*.key"))
    # Idempotent, and still no keys; the demo needs the development PKI, so the pair is refused.
    assert ioffice(env, "init", "--no-dev-pki").returncode == 0
    assert "--no-dev-pki" in _one_line_error(ioffice(env, "init", "--demo", "--no-dev-pki"))
    assert not (data / "pki").exists()
    # The service built on it serves no development TSA/OCSP and creates no PKI either.
    for k, v in env.items():
        if k.startswith("IOFFICE_"):
            monkeypatch.setenv(k, v)
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/dev-pki/root.pem").status_code == 404
    assert not (data / "pki").exists()
