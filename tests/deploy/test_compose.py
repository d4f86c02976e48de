"""docker-compose.yml is accepted by a Compose implementation (`docker compose config`), runs the
production path, publishes no service with a default password, pins every image to a tag, and
the Docker build context carries no virtualenv, data, secrets or history."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENV = {"IOFFICE_DB_PASSWORD": "db-pass-x1", "IOFFICE_S3_ACCESS_KEY": "s3-user-x1",
       "IOFFICE_S3_SECRET_KEY": "s3-pass-x1", "IOFFICE_SECRET_KEY": "secret-x1"}


def _compose_cmd():
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _config(env: dict) -> subprocess.CompletedProcess:
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip("no docker compose / docker-compose binary")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")}
    return subprocess.run([*cmd, "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**clean, **env})


def test_compose_file_is_valid_and_wires_postgres_and_minio():
    r = _config(ENV)
    assert r.returncode == 0, r.stderr
    spec = yaml.safe_load(r.stdout)
    app = spec["services"]["app"]
    assert app["environment"]["IOFFICE_STORAGE_URL"].startswith("s3://")
    assert app["environment"]["IOFFICE_DATABASE_URL"] == "postgresql+psycopg://ioffice:db-pass-x1@postgres:5432/ioffice"
    assert app["environment"]["IOFFICE_SECRET_KEY"] == "secret-x1"
    assert spec["services"]["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == "s3-pass-x1"
    assert spec["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "db-pass-x1"
    assert "--with-lock" in str(spec["services"]["minio-setup"]["entrypoint"])
    # Every long-running service has a health check; every image is pinned to a tag.
    for name, svc in spec["services"].items():
        if svc.get("restart") != "no":
            assert "healthcheck" in svc, name
        image = svc.get("image", "")
        assert re.search(r":[\w.-]+$", image) and not image.endswith(":latest"), (name, image)
    # The production path (migrate + serve), not the demo; only the app is published, on loopback.
    command = " ".join(app["command"])
    assert "ioffice init" in command and "ioffice serve" in command and "--demo" not in command
    published = {name for name, svc in spec["services"].items() if svc.get("ports")}
    assert published == {"app"}
    for port in app["ports"]:  # "127.0.0.1:8000:8000" (compose v1) or {host_ip: …} (compose v2)
        assert (port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]) == "127.0.0.1", port


def test_compose_refuses_to_start_without_passwords():
    r = _config({k: v for k, v in ENV.items() if k != "IOFFICE_DB_PASSWORD"})
    assert r.returncode != 0
    assert "IOFFICE_DB_PASSWORD" in r.stderr


def test_dockerfile_runs_the_production_path_from_pinned_images():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert re.search(r":\d+\.\d+\.\d+-", base), base  # e.g. python:3.11.13-slim-bookworm
    cmd = re.search(r"^CMD (.+)$", text, re.M).group(1)
    assert "ioffice init" in cmd and "ioffice serve" in cmd and "--demo" not in cmd
    assert "requirements.lock" in text and "HEALTHCHECK" in text


def test_docker_build_context_leaves_out_venv_data_secrets_and_git():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for entry in (".git", ".venv", "ioffice-data", "*.p12", "*.key", "*.pem", ".env", "*.db"):
        assert entry in ignored, entry
