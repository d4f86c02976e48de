"""A stand-in for the signing plugins officials install on their PCs — FOR TESTS ONLY.

It speaks the plugins' messages on loopback and signs SHA-256 hashes with a key on a SoftHSM2
token through python-pkcs11 (RSA PKCS#1 v1.5 over the DigestInfo, as a token signs in hash
mode). Run in its own process, like the real plugin:

    python -m tests.channels.standin_plugin KIND PORT CERT_DIR TOKEN_LABEL PIN KEY_LABEL

KIND: ``vgca`` (wss, one message per socket at ``/<Operation>``), ``vnpt`` (wss ``/plugin``,
``signHash``) or ``viettel`` (HTTP POST ``/`` with ``{"function": "Sign", "inData": …}``).
Prints ``READY <port>`` once listening. Every signature it makes is appended to
``CERT_DIR/signed-<KIND>.log`` (one line per hash) so tests can count plugin operations.
"""
from __future__ import annotations

import asyncio
import base64
import json
import ssl
import sys
from pathlib import Path

import pkcs11
from aiohttp import WSMsgType, web
from pkcs11 import Attribute, Mechanism, ObjectClass

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class Token:
    def __init__(self, token_label: str, pin: str, key_label: str) -> None:
        self.token = pkcs11.lib(MODULE).get_token(token_label=token_label)
        self.session = self.token.open(user_pin=pin)  # one PIN entry per plugin session
        self.key = self.session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
        cert = next(self.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_label}))
        self.cert_der = bytes(cert[Attribute.VALUE])

    def sign_hash(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("not a SHA-256 hash")
        return self.key.sign(SHA256_DIGEST_INFO + digest, mechanism=Mechanism.RSA_PKCS)


def main(argv: list[str]) -> None:
    kind, port, cert_dir, token_label, pin, key_label = argv[:6]
    cert_dir_p = Path(cert_dir)
    token = Token(token_label, pin, key_label)
    log = cert_dir_p / f"signed-{kind}.log"

    def sign(b64_hash: str) -> tuple[str, str]:
        digest = base64.b64decode(b64_hash, validate=True)
        sig = token.sign_hash(digest)
        with log.open("a") as fh:
            fh.write(b64_hash + "\n")
        return base64.b64encode(sig).decode(), base64.b64encode(token.cert_der).decode()

    app = web.Application()

    async def vgca(request: web.Request):
        # VGCA Sign Service: one message per socket at /<Operation>
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        op = request.match_info["op"]
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            try:
                req = json.loads(msg.data)
                if op != "SignMsg" or req.get("HashAlg") != "SHA256" or req.get("Encode") != "RSA":
                    await ws.send_str(json.dumps({"Status": 2, "Message": "Unsupported"}))
                else:
                    sig, cert = sign(req["HashValue"])
                    await ws.send_str(json.dumps({"Status": 0, "Signature": sig, "CertBase64": cert}))
            except Exception as exc:  # noqa: BLE001
                await ws.send_str(json.dumps({"Status": 1, "Message": type(exc).__name__}))
            break
        await ws.close()
        return ws

    async def vnpt(request: web.Request):
        # VNPT-CA Plugin: a socket at /plugin, JSON requests {"id", "method", "params"}
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            req = json.loads(msg.data)
            try:
                if req.get("method") != "signHash" or req["params"].get("hashAlg") != "SHA256":
                    raise ValueError("unsupported")
                sig, cert = sign(req["params"]["hash"])
                await ws.send_str(json.dumps({"id": req.get("id"), "code": 0,
                                              "data": {"signature": sig, "certificate": cert}}))
            except Exception as exc:  # noqa: BLE001
                await ws.send_str(json.dumps({"id": req.get("id"), "code": 1, "error": type(exc).__name__}))
        return ws

    async def viettel(request: web.Request):
        # Viettel-CA SignPlugin: HTTP POST {"function": "Sign", "inData": base64 hash, "hashAlg"}
        origin = request.headers.get("Origin", "*")
        cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Private-Network": "true"}
        if request.method == "OPTIONS":
            return web.Response(headers=cors)
        req = await request.json()
        try:
            if req.get("function") != "Sign" or req.get("hashAlg") != "SHA256":
                raise ValueError("unsupported")
            sig, cert = sign(req["inData"])
            return web.json_response({"code": 0, "outData": sig, "certificate": cert}, headers=cors)
        except Exception as exc:  # noqa: BLE001
            return web.json_response({"code": 1, "error": type(exc).__name__}, headers=cors)

    ssl_ctx = None
    if kind == "vgca":
        app.router.add_get("/{op}", vgca)
    elif kind == "vnpt":
        app.router.add_get("/plugin", vnpt)
    else:
        app.router.add_route("POST", "/", viettel)
        app.router.add_route("OPTIONS", "/", viettel)
    if kind in ("vgca", "vnpt"):
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(cert_dir_p / "tls.pem", cert_dir_p / "tls.key")

    async def run() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", int(port), ssl_context=ssl_ctx)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"READY {bound}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
