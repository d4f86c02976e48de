"""``ioffice verify``: exit codes 0/1/2, Vietnamese summary, ``--json`` shape, trust sources."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api import cli_verify
from tests.support.pdfs import make_pdf

from .builders import sign


def run_cli(argv: list[str]) -> int:
    return cli_verify.main(argv)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("IOFFICE_TRUST_ROOTS", raising=False)
    monkeypatch.setenv("IOFFICE_DATA_DIR", str(tmp_path / "no-data-dir"))


@pytest.fixture(scope="module")
def files(tmp_path_factory, pki):
    d = tmp_path_factory.mktemp("verify")
    plain = make_pdf()
    signed = sign(plain, pki)
    out = {
        "signed": d / "signed.pdf",
        "plain": d / "plain.pdf",
        "tampered": d / "tampered.pdf",
        "root": d / "root.pem",
        "roots_dir": d / "roots",
        "text": d / "note.txt",
    }
    out["signed"].write_bytes(signed)
    out["plain"].write_bytes(plain)
    out["tampered"].write_bytes(signed.replace(b"1.000.000", b"9.000.000", 1))
    out["root"].write_bytes(pki.root.pem)
    out["roots_dir"].mkdir()
    (out["roots_dir"] / "a.pem").write_bytes(pki.root.pem)
    (out["roots_dir"] / "readme.txt").write_text("không phải chứng thư")
    out["text"].write_text("xin chào")
    return out


def test_valid_and_trusted_exits_0(files, capsys):
    code = run_cli([str(files["signed"]), "--trust", str(files["root"])])
    out = capsys.readouterr().out
    assert code == 0
    assert "Kết luận: Hợp lệ" in out
    assert "Nguyễn Văn Hùng" in out
    assert "B-B" in out


def test_valid_but_untrusted_exits_1(files, capsys):
    """No trust configured at all: the signature is intact but not trusted → exit 1."""
    assert run_cli([str(files["signed"])]) == 1
    assert "Tin cậy: KHÔNG" in capsys.readouterr().out


def test_env_trust_roots_folder(files, monkeypatch, capsys):
    monkeypatch.setenv("IOFFICE_TRUST_ROOTS", str(files["roots_dir"]))
    assert run_cli([str(files["signed"])]) == 0


def test_other_verdicts_exit_1(files, capsys):
    assert run_cli([str(files["tampered"]), "--trust", str(files["root"])]) == 1
    assert run_cli([str(files["plain"]), "--trust", str(files["root"])]) == 1
    assert run_cli([str(files["text"]), "--trust", str(files["root"])]) == 1
    out = capsys.readouterr().out
    assert "Chữ ký không hợp lệ" in out and "Không có chữ ký số" in out
    assert "Không đọc được tệp" in out


def test_missing_file_directory_and_bad_trust_exit_2(files, tmp_path, capsys):
    assert run_cli([str(tmp_path / "khong-co.pdf")]) == 2
    assert run_cli([str(tmp_path)]) == 2
    assert run_cli([str(files["signed"]), "--trust", str(tmp_path / "nope.pem")]) == 2
    assert run_cli([str(files["signed"]), "--trust", str(files["text"])]) == 2
    # a readable file next to a missing one: still 2, the readable one is reported
    assert run_cli([str(files["signed"]), str(tmp_path / "x.pdf"),
                    "--trust", str(files["root"])]) == 2
    err = capsys.readouterr().err
    assert "không tìm thấy tệp" in err and "thư mục" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_permission_exit_2(files, tmp_path):
    p = tmp_path / "secret.pdf"
    p.write_bytes(files["signed"].read_bytes())
    p.chmod(0)
    assert run_cli([str(p)]) == 2


def test_usage_error_exit_2(capsys):
    assert run_cli([]) == 2


def test_json_one_file_is_an_object(files, capsys):
    code = run_cli([str(files["signed"]), "--json", "--trust", str(files["root"])])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["verdict"] == "valid" and doc["trusted"] is True and doc["copy"] is None
    sig = doc["signatures"][0]
    assert set(sig) >= {"field", "signer", "signing_time", "intact", "valid", "trusted",
                        "revocation", "coverage", "changes_after", "level", "timestamp"}
    assert sig["coverage"] == "entire_file"


def test_json_several_files_is_a_list(files, capsys):
    code = run_cli([str(files["signed"]), str(files["tampered"]), "--json",
                    "--trust", str(files["root"])])
    docs = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [d["verdict"] for d in docs] == ["valid", "invalid"]
    assert [Path(d["file"]).name for d in docs] == ["signed.pdf", "tampered.pdf"]


def test_module_entry_point(files):
    """``python -m api.cli_verify`` works before the main CLI wires the command in."""
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli_verify", str(files["signed"]), "--json",
         "--trust", str(files["root"])],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "valid"
    assert "Traceback" not in proc.stderr
