# Shared by scripts/demo.sh and scripts/test.sh (sourced): create .venv and install ioffice from
# the pinned lock files, showing progress, and skip the install when nothing changed since the last
# one (a stamp holds the hash of pyproject.toml, the lock files and the extras).
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

pip_progress() {  # run pip showing what it fetches and installs (not the already-satisfied lines)
  local rc
  set +o pipefail
  .venv/bin/python -m pip --disable-pip-version-check "$@" 2>&1 \
    | grep --line-buffered -vE '^(WARNING: Location|Requirement already satisfied)' | sed -u 's/^/    /'
  rc=${PIPESTATUS[0]}
  set -o pipefail
  [ "$rc" = 0 ] || { echo "ioffice: pip install failed (exit $rc)" >&2; exit "$rc"; }
}

ensure_venv() {  # $1: "" or "test"
  local extras="$1" py=${PYTHON:-python3} stamp=.venv/.ioffice-install-stamp want
  if [ ! -x .venv/bin/python ]; then
    say "Tạo môi trường ảo .venv ($("$py" --version 2>&1))"
    if ! "$py" -m venv .venv 2>/dev/null; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "Cài python3-venv (apt)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        rm -rf .venv && "$py" -m venv .venv
      else
        echo "ioffice: cần gói python3-venv (sudo apt-get install python3-venv)" >&2; exit 1
      fi
    fi
  fi
  want=$(cat pyproject.toml requirements.lock $([ "$extras" = test ] && echo requirements-test.lock) 2>/dev/null \
         | sha256sum | cut -c1-64)-$extras
  if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || grep -qx "$want" "$stamp"; }; then
    say "Thư viện đã cài đặt, không có gì thay đổi (bỏ qua bước cài)"
    return
  fi
  local n; n=$(grep -c '==' requirements.lock)
  say "Cài $n thư viện đã khóa phiên bản (requirements.lock) — lần đầu mất vài phút"
  pip_progress install --progress-bar off -r requirements.lock
  if [ "$extras" = test ]; then
    say "Cài thư viện kiểm thử (requirements-test.lock)"
    pip_progress install --progress-bar off -r requirements-test.lock
  fi
  say "Cài ioffice (chế độ phát triển: sửa mã nguồn không cần cài lại)"
  pip_progress install -q --no-deps -e .
  .venv/bin/python -c "import api.cli" || { echo "ioffice: cài đặt không thành công" >&2; exit 1; }
  echo "$want" > "$stamp"
}

usage_hint() {
  cat <<HINT
Lệnh ioffice đã sẵn sàng. Để dùng từ bất kỳ thư mục nào:
    source $PWD/.venv/bin/activate            # hoặc gọi thẳng $PWD/.venv/bin/ioffice
    export IOFFICE_DATA_DIR=$PWD/ioffice-data
    ioffice --help                             # các lệnh: init, serve, org, user, key, trust, backup, …
HINT
}
