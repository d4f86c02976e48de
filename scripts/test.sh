#!/usr/bin/env bash
# Set up and run the test suite: system tools the tests use (SoftHSM2, poppler's pdfsig/pdftotext,
# qpdf, NSS certutil, fonts, docker-compose), PostgreSQL on 127.0.0.1:5432 with trust
# authentication (installed and started when missing, as root), a virtual environment with the
# test extras (pinned), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
APT_PACKAGES="softhsm2 poppler-utils qpdf fonts-liberation2 libnss3-tools opensc python3-venv docker-compose zbar-tools chromium"
apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ioffice: install first: sudo apt-get install $*" >&2; exit 1
  fi
  [ -n "$apt_updated" ] || { say "apt-get update"; apt-get update -qq; apt_updated=1; }
  say "Cài gói hệ thống: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=""
for tool in softhsm2-util pdfsig pdftotext qpdf certutil pkcs11-tool docker-compose zbarimg chromium; do
  command -v "$tool" >/dev/null || missing="yes"
done
[ -z "$missing" ] || apt_install $APT_PACKAGES

# PostgreSQL for the PostgreSQL half of the database tests (unless IOFFICE_TEST_PG_URL points elsewhere).
pg_ready() { command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; }
if [ -z "${IOFFICE_TEST_PG_URL:-}" ] && ! pg_ready; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$ver" ]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    say "Tạo cụm PostgreSQL $ver"
    pg_createcluster "$ver" main >/dev/null
  fi
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! grep -q "ioffice-tests" "$hba"; then
    say "PostgreSQL: tin cậy kết nối từ 127.0.0.1 (chỉ cho máy kiểm thử)"
    sed -i '1i host all all 127.0.0.1/32 trust # ioffice-tests' "$hba"
  fi
  say "Khởi động PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || { echo "ioffice: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi

ensure_venv test
export PATH="$PWD/.venv/bin:$PATH"
say "Chạy bộ kiểm thử: pytest $*"
exec .venv/bin/python -m pytest "$@"
