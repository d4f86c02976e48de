"""docker-compose.yml is accepted by a Compose implementation (`docker compose config`)."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose_cmd():
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid_and_wires_postgres_and_minio():
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip("no docker compose / docker-compose binary")
    r = subprocess.run([*cmd, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = spec["services"]["app"]
    assert app["environment"]["IOFFICE_STORAGE_URL"].startswith("s3://")
    assert app["environment"]["IOFFICE_DATABASE_URL"].startswith("postgresql")
    assert "--with-lock" in spec["services"]["minio-setup"]["entrypoint"]
    for name in ("postgres", "minio", "app"):
        assert "healthcheck" in spec["services"][name]
