"""Import-linter contracts (pyproject.toml), checked one by one:

- ``core-no-adapters``: the domain core imports no adapter and no fastapi/starlette/minio/pyhanko/uvicorn;
- ``layers``: ``api`` above ``signing | storage | certs`` above ``ioffice``;
- ``adapters-independent``: ``signing``, ``storage`` and ``certs`` do not import each other.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "core-no-adapters": "The domain core knows nothing of the web, object storage or pyHanko",
    "layers": "Layers: api above the adapters (signing | storage | certs) above the core",
    "adapters-independent": "The adapter packages are independent of each other",
}


@pytest.fixture(scope="module")
def lint_output() -> str:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    return r.stdout + r.stderr


def _verdict(output: str, contract_id: str) -> str:
    m = re.search(re.escape(CONTRACTS[contract_id]) + r"\s+(KEPT|BROKEN)", output)
    assert m, f"contract {contract_id!r} not reported by lint-imports:\n{output}"
    return m.group(1)


def test_core_imports_no_fastapi_minio_or_pyhanko(lint_output):
    assert _verdict(lint_output, "core-no-adapters") == "KEPT", lint_output


def test_layers_api_above_adapters_above_core(lint_output):
    assert _verdict(lint_output, "layers") == "KEPT", lint_output


def test_adapter_packages_are_independent(lint_output):
    assert _verdict(lint_output, "adapters-independent") == "KEPT", lint_output
