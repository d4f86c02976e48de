"""`ioffice backup` → wipe → `ioffice restore` gives back every row, blob and key: the audit chains
verify (`ioffice audit verify`), every blob hashes to its name, documents download unchanged and a
signed document still validates. SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

from fastapi.testclient import TestClient

from tests.conftest import _pg_exec, login, make_pdf


def _cli(env, *args):
    environ = {k: v for k, v in __import__("os").environ.items() if not k.startswith("IOFFICE_")}
    environ.update(IOFFICE_DATA_DIR=str(env.data_dir), IOFFICE_DATABASE_URL=env.database_url)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=environ, capture_output=True, text=True,
                          timeout=300)


def test_backup_wipe_restore_verifies(env, tmp_path):
    from api.app import create_app

    meta = {"direction": "incoming", "doc_type": "Công văn", "summary": "Về việc sao lưu dữ liệu",
            "issuing_body": "Sở Tư pháp", "issued_date": "2026-03-02", "number_symbol": "9/STP"}
    pdfs = [make_pdf(f"sao luu {i}", pages=i + 1) for i in range(3)]
    with TestClient(create_app(env.settings()), raise_server_exceptions=False) as c:
        h = login(c, "vanthu")
        ids = []
        for i, pdf in enumerate(pdfs):
            r = c.post("/api/v1/documents", headers=h, files={"file": (f"{i}.pdf", pdf, "application/pdf")},
                       data={"metadata": json.dumps(dict(meta, number_symbol=f"{i}/STP"), ensure_ascii=False)})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        assert c.post(f"/api/v1/documents/{ids[0]}/register", headers=h).status_code == 200
        docs_before = {d: c.get(f"/api/v1/documents/{d}", headers=h).json() for d in ids}

    assert _cli(env, "audit", "anchor").returncode == 0  # anchors are backed up and restored too
    dest = tmp_path / "backup"
    r = _cli(env, "backup", str(dest))
    assert r.returncode == 0, r.stderr
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["tables"]["documents"] == 3 and manifest["tables"]["audit_events"] > 0
    assert {hashlib.sha256(p).hexdigest() for p in pdfs} <= {b["sha256"] for b in manifest["blobs"]}
    assert (dest / "files" / "secret.key").is_file()
    assert manifest["records"] and all(n.startswith("audit-anchors/") for n in manifest["records"])
    assert "ioffice: " in _cli(env, "backup", str(dest)).stderr  # never overwrites a backup

    # Wipe: the database, the blobs and the keys.
    if env.backend == "sqlite":
        for f in env.data_dir.glob("ioffice.db*"):
            f.unlink()
    else:
        name = env.database_url.rsplit("/", 1)[1]
        _pg_exec(f'DROP DATABASE "{name}" WITH (FORCE)')
        _pg_exec(f'CREATE DATABASE "{name}"')
    shutil.rmtree(env.data_dir)
    env.data_dir.mkdir()

    r = _cli(env, "restore", str(dest))
    assert r.returncode == 0, r.stderr
    assert "SHA-256" in r.stdout
    r = _cli(env, "audit", "verify")
    assert r.returncode == 0 and "Audit chain OK" in r.stdout, r.stdout + r.stderr
    assert f"against {len(manifest['records'])} anchors" in r.stdout
    again = _cli(env, "restore", str(dest))  # refuses to mix into a database that has rows
    assert again.returncode == 1 and "trống" in again.stderr

    blobs = sorted((env.data_dir / "blobs").rglob("*"))
    files = [p for p in blobs if p.is_file() and len(p.name) == 64]
    assert {p.name for p in files} == {b["sha256"] for b in manifest["blobs"]}
    for p in files:
        assert hashlib.sha256(p.read_bytes()).hexdigest() == p.name

    with TestClient(create_app(env.settings()), raise_server_exceptions=False) as c:
        h = login(c, "vanthu")  # the same password hash, the same secret
        for d, pdf in zip(ids, pdfs, strict=True):
            assert c.get(f"/api/v1/documents/{d}", headers=h).json() == docs_before[d]
            got = c.get(f"/api/v1/documents/{d}/content", headers=h)
            assert got.status_code == 200 and got.content == pdf
        # New rows continue after the restored ones (sequences reset on PostgreSQL).
        r = c.post("/api/v1/documents", headers=h, files={"file": ("n.pdf", make_pdf("moi"), "application/pdf")},
                   data={"metadata": json.dumps(dict(meta, number_symbol="99/STP"), ensure_ascii=False)})
        assert r.status_code == 201, r.text
        assert c.post(f"/api/v1/documents/{r.json()['id']}/register", headers=h).json()["arrival_number"] == 2
    assert _cli(env, "audit", "verify").returncode == 0


def test_restore_refuses_what_is_not_a_backup(env, tmp_path):
    (tmp_path / "x").mkdir()
    r = _cli(env, "restore", str(tmp_path / "x"))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "manifest.json" in r.stderr
