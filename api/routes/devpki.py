"""Development PKI endpoints: TSA, OCSP, CRLs and the root certificate (dev/demo only).

``make_router(devpki)`` returns an ``APIRouter`` with prefix ``/dev-pki``; the URLs match those
embedded in the dev certificates (``DevPki.base_url`` must point at where it is mounted).
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from certs.devpki import DevPki
from certs.devservices import services_for

_MAX_BODY = 64 * 1024


def make_router(devpki: DevPki, limit: Callable[[Request], None] | None = None) -> APIRouter:
    """Router with ``POST /dev-pki/tsa``, ``POST|GET /dev-pki/ocsp``, ``GET /dev-pki/crl``,
    ``GET /dev-pki/root.crl``, ``GET /dev-pki/root.pem``, ``GET /dev-pki/chain.pem``."""
    async def _limited(request: Request) -> None:
        if limit is not None:  # per-address rate limit (the database counter runs in a thread)
            await run_in_threadpool(limit, request)

    router = APIRouter(prefix="/dev-pki", tags=["dev-pki"], dependencies=[Depends(_limited)])
    svc = services_for(devpki)

    async def _body(request: Request) -> bytes:
        body = await request.body()
        if len(body) > _MAX_BODY:
            raise HTTPException(413, "Yêu cầu quá lớn")
        return body

    @router.post("/tsa", response_class=Response)
    async def tsa(request: Request) -> Response:
        try:
            der = svc.tsa_respond(await _body(request))
        except ValueError:
            raise HTTPException(400, "Yêu cầu cấp dấu thời gian không hợp lệ") from None
        return Response(der, media_type="application/timestamp-reply")

    @router.post("/ocsp", response_class=Response)
    async def ocsp_post(request: Request) -> Response:
        return Response(svc.ocsp_respond(await _body(request)), media_type="application/ocsp-response")

    @router.get("/ocsp/{encoded:path}", response_class=Response)
    async def ocsp_get(encoded: str) -> Response:
        # RFC 6960 appendix A.1: GET {url}/{url-encoding of base64 of DER request}
        try:
            der = base64.b64decode(unquote(encoded), validate=False)
        except ValueError:
            der = b""
        return Response(svc.ocsp_respond(der), media_type="application/ocsp-response")

    @router.get("/crl", response_class=Response)
    async def crl() -> Response:
        return Response(svc.crl(), media_type="application/pkix-crl")

    @router.get("/root.crl", response_class=Response)
    async def root_crl() -> Response:
        return Response(svc.root_crl(), media_type="application/pkix-crl")

    @router.get("/root.pem", response_class=Response)
    async def root_pem() -> Response:
        pem = devpki.root_cert.public_bytes(serialization.Encoding.PEM)
        return Response(pem, media_type="application/x-pem-file")

    @router.get("/chain.pem", response_class=Response)
    async def chain_pem() -> Response:
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in devpki.chain)
        return Response(pem, media_type="application/x-pem-file")

    return router
