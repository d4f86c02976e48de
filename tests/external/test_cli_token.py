"""The reference client in online mode against a loopback HTTP server that implements the
external-signing contract with signing.external, plus the client's refusals."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest

from ioffice.kernel.errors import DomainError, NotFound
from signing.external import complete_external_signature, prepare_external_signature
from tests.support.pdfs import make_pdf

BEARER = "bearer-for-tests"


class ContractServer:
    """A minimal stand-in for the API's two external-signing endpoints (loopback, real HTTP)."""

    def __init__(self, ttl: dt.timedelta = dt.timedelta(minutes=15)) -> None:
        self.documents = {"doc-1": make_pdf(text="Tờ trình số 12/TTr-VP")}
        self.sessions: dict[str, dict] = {}
        self.versions: dict[str, bytes] = {}
        self.ttl = ttl
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: dict, problem: bool = False) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type",
                                 "application/problem+json" if problem else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - http.server naming
                try:
                    if self.headers.get("Authorization") != f"Bearer {BEARER}":
                        return self._send(401, {"type": "unauthenticated", "status": 401,
                                                "detail": "Chưa đăng nhập hoặc phiên đăng nhập "
                                                          "đã hết hạn"}, problem=True)
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    m = re.fullmatch(r"/api/v1/documents/([^/]+)/sign", self.path)
                    if m:
                        return self._send(201, server.prepare(m.group(1), body))
                    m = re.fullmatch(r"/api/v1/signing-sessions/([^/]+)/complete", self.path)
                    if m:
                        return self._send(200, server.complete(m.group(1), body))
                    raise NotFound("Không tìm thấy")
                except DomainError as exc:
                    self._send(exc.status, {"type": exc.code, "status": exc.status,
                                            "title": exc.title, "detail": exc.detail},
                               problem=True)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def prepare(self, document_id: str, body: dict) -> dict:
        if document_id not in self.documents:
            raise NotFound("Không tìm thấy tài liệu cần ký.")
        assert body["mode"] == "external"
        session = prepare_external_signature(
            self.documents[document_id], signer_cert=body["certificate_pem"],
            chain=body.get("chain_pem", []), ttl=self.ttl,
        )
        sid = f"s{len(self.sessions) + 1}"
        self.sessions[sid] = {"prepared": session.prepared_pdf,
                              "state": json.loads(json.dumps(session.state))}
        return {"session_id": sid,
                "data_to_sign": base64.b64encode(session.data_to_sign).decode(),
                "digest_algorithm": session.digest_algorithm,
                "signature_mechanism": session.signature_mechanism,
                "expires_at": session.expires_at.isoformat()}

    def complete(self, session_id: str, body: dict) -> dict:
        from ioffice.kernel.errors import InvalidInput

        s = self.sessions.get(session_id)
        if s is None:
            raise NotFound("Không tìm thấy phiên ký.")
        try:
            signature = base64.b64decode(body["signature"], validate=True)
        except (KeyError, binascii.Error) as exc:
            raise InvalidInput("Chữ ký gửi về không đúng định dạng base64.") from exc
        signed = complete_external_signature(s["prepared"], s["state"], signature)
        vid = f"v{len(self.versions) + 2}"
        self.versions[vid] = signed
        return {"id": vid, "sha256": hashlib.sha256(signed).hexdigest()}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with ContractServer() as srv:
        yield srv


def online(token, srv, *extra, document="doc-1", bearer=BEARER, check=False):
    """Run the client in online mode; ``bearer=None`` passes it in $IOFFICE_ACCESS_TOKEN."""
    auth = ["--token", bearer] if bearer is not None else []
    env = None if bearer is not None else dict(token.env, IOFFICE_ACCESS_TOKEN=BEARER)
    return token.run_client("--server", srv.url, *auth, "--document", document,
                            "--key-label", "signer", *extra, check=check, env=env)


@pytest.mark.slow
def test_online_round_trip_prints_new_version(token, server, validation_context_factory):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    proc = online(token, server)
    assert proc.returncode == 0, proc.stderr
    version_id = proc.stdout.strip()
    assert version_id in server.versions
    signed = server.versions[version_id]
    assert signed.startswith(server.documents["doc-1"])
    sig = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    status = validate_pdf_signature(sig, validation_context_factory())
    assert status.bottom_line and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Nguyễn Văn Chủ Tịch"
    # the client sent the issuing CA it found on the token as the chain
    certs = {c.chosen.subject.native["common_name"] for c in sig.signed_data["certificates"]}
    assert "ioffice Test Issuing CA" in certs


def one_line_error(proc) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.slow
def test_server_refusal_detail_is_printed(token, server):
    assert "Không tìm thấy tài liệu cần ký." in one_line_error(online(token, server,
                                                                      document="nope"))
    assert "Chưa đăng nhập" in one_line_error(online(token, server, bearer="wrong"))
    assert not server.versions


def test_expired_session_detail_is_printed(token):
    with ContractServer(ttl=dt.timedelta(0)) as srv:
        line = one_line_error(online(token, srv, bearer=None))
        assert "Phiên ký đã hết hạn" in line
        assert not srv.versions


@pytest.mark.slow
def test_token_problems_are_reported_in_vietnamese(token, tmp_path):
    bad_pin = dict(token.env)
    bad_pin["IOFFICE_TEST_TOKEN_PIN"] = "0000"
    import subprocess
    import sys

    from .conftest import REPO_ROOT, SOFTHSM_MODULE

    def run(*args, env=None):
        return subprocess.run([sys.executable, "-m", "api.cli_token", "--module", SOFTHSM_MODULE,
                               "--pin-env", "IOFFICE_TEST_TOKEN_PIN", *args],
                              env=env or token.env, cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=60)

    out = tmp_path / "c.pem"
    assert "Mã PIN" in one_line_error(run("--token-label", "test", "--export-cert", str(out),
                                          env=bad_pin))
    assert "nhãn 'khong-co'" in one_line_error(run("--token-label", "khong-co",
                                                   "--export-cert", str(out)))
    assert "--key-label" in one_line_error(run("--token-label", "test", "--export-cert",
                                               str(out)))
    assert "khóa bí mật" in one_line_error(run("--token-label", "test", "--key-label", "x",
                                               "--export-cert", str(out)))
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"data_to_sign": "!!", "signature_mechanism": "sha256_rsa"}))
    assert "data_to_sign" in one_line_error(run("--token-label", "test", "--key-label", "signer",
                                                "--request", str(req), "--out",
                                                str(tmp_path / "s")))
    # unreachable server
    line = one_line_error(run("--token-label", "test", "--key-label", "signer", "--server",
                              "http://127.0.0.1:9", "--token", "t", "--document", "1"))
    assert "Không kết nối được" in line
    # usage errors exit 2
    assert run("--token-label", "test").returncode == 2
    assert run("--token-label", "test", "--request", str(req)).returncode == 2


def test_register_adds_token_sign_subcommand():
    import argparse

    from api.cli_token import register

    parser = argparse.ArgumentParser(prog="ioffice")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["token-sign", "--module", "m.so", "--token-label", "t",
                              "--request", "r.json", "--out", "s.bin"])
    assert args.command == "token-sign" and callable(args.func)
    assert args.request == "r.json" and args.pin_env == "IOFFICE_TOKEN_PIN"
