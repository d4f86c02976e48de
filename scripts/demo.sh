#!/usr/bin/env bash
# Quick start: set up a virtual environment, install ioffice from the lock file, and run the demo
# service on the embedded default (SQLite + files under ./ioffice-data) at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv ""
usage_hint
say "Khởi động bản dùng thử: .venv/bin/ioffice demo $*"
exec .venv/bin/ioffice demo "$@"
