"""Client addresses behind reverse proxies.

``X-Forwarded-For`` is believed only when the direct peer is one of the configured proxies
(``IOFFICE_TRUSTED_PROXIES``: comma-separated IPs or CIDRs, default none). The client address is
then the right-most forwarded address that is not itself a trusted proxy — the left part of the
header is whatever the client chose to send and is never believed. ``ForwardedFor`` rewrites the
ASGI scope's ``client`` once, so the rate limits, login throttling and the audit log all see the
same address. uvicorn's own proxy-header handling (which trusts 127.0.0.1 by default) is off.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(spec: str | None) -> list[Network]:
    """``"10.0.0.1, 192.168.0.0/16"`` → networks. Raises ValueError naming a bad entry."""
    nets: list[Network] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"IOFFICE_TRUSTED_PROXIES: not an IP address or CIDR: {part!r}") from exc
    return nets


def _ip(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr: Address | None, nets: Iterable[Network]) -> bool:
    return addr is not None and any(addr in n for n in nets)


def real_client(peer: str | None, forwarded_for: list[str], nets: list[Network]) -> str | None:
    """The client address given the direct ``peer`` and the ``X-Forwarded-For`` header values."""
    if not nets or not _trusted(_ip(peer or ""), nets):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _ip(hop)
        if addr is None:  # garbage in the chain: believe nothing further left
            return peer
        if not _trusted(addr, nets):
            return str(addr)
    return str(_ip(hops[0])) if hops and _ip(hops[0]) else peer


class ForwardedFor:
    """Pure ASGI middleware: set ``scope["client"]`` from X-Forwarded-For sent by a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: str | None) -> None:
        self.app = app
        self.nets = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.nets and scope.get("client"):
            peer_host, peer_port = scope["client"]
            values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
            if values:
                host = real_client(peer_host, values, self.nets)
                if host != peer_host:
                    scope = {**scope, "client": (host, 0)}
                    for k, v in scope.get("headers", ()):
                        if k == b"x-forwarded-proto" and v in (b"http", b"https"):
                            scope["scheme"] = v.decode()
        return await self.app(scope, receive, send)


def server_options(host: str, port: int, *, log_level: str = "info") -> dict[str, Any]:
    """uvicorn options for serving the app (the CLI and the live-server tests use the same)."""
    return dict(host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False)
