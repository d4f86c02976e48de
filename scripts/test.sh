#!/usr/bin/env bash
# Set up and run the test suite: system tools the tests use (SoftHSM2, poppler's pdfsig/pdftotext,
# qpdf, NSS certutil, fonts, Debian's Chromium for the browser-side signing tests), a virtual environment with the test extras, then pytest.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth) for the PostgreSQL half of the database tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
APT_PACKAGES="softhsm2 poppler-utils qpdf fonts-liberation2 libnss3-tools opensc python3-venv docker-compose chromium"
missing=""
for tool in softhsm2-util pdfsig pdftotext qpdf certutil pkcs11-tool docker-compose chromium; do
  command -v "$tool" >/dev/null || missing="yes"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
  else
    echo "ioffice: install first: sudo apt-get install $APT_PACKAGES" >&2; exit 1
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest "$@"
