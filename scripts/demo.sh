#!/usr/bin/env bash
# Quick start: set up a virtual environment, install ioffice, and run the demo service on the
# embedded default (SQLite + files under ./ioffice-data) at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
      rm -rf .venv && "$PY" -m venv .venv
    else
      echo "ioffice: cần gói python3-venv (sudo apt-get install python3-venv)" >&2; exit 1
    fi
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check .
exec .venv/bin/ioffice demo "$@"
