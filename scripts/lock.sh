#!/usr/bin/env bash
# Refresh the lock files after changing pyproject.toml: resolve the newest allowed versions into
# .venv, run the tests, then pin exactly what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q --upgrade -e '.[test]'
.venv/bin/python scripts/lock.py
echo "requirements.lock and requirements-test.lock updated; run bash scripts/test.sh before committing"
