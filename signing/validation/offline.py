"""Offline analysis without importing an HTTP client.

pyHanko imports ``aiohttp`` (its TSA client and its default certificate/CRL/OCSP fetchers) as a side
effect of importing ``pyhanko.sign``, although validating without fetching never uses it; that import
is about 0.2 s of CPU, a third of stock pyHanko's whole validation of a one-page document. In an
analysis process that will not fetch (and has not imported pyHanko yet), those two modules are
replaced by placeholders that refuse to be used; with ``allow_fetching`` nothing is replaced.

The fork server of the analysis processes (used by nothing else) installs them before it preloads
pyHanko (:mod:`._offline_preload`); an analysis process that is allowed to fetch removes them
(:func:`restore`) — pyHanko imports its default fetchers only when it first needs them, so the
real ``aiohttp`` is loaded then.
"""
from __future__ import annotations

import sys
import types
from typing import Any, NoReturn

_PLACEHOLDERS = {
    "pyhanko.sign.timestamps.aiohttp_client": ("HTTPTimeStamper", "AIOHttpTimeStamper"),
    "pyhanko_certvalidator.fetchers.aiohttp_fetchers": (
        "AIOHttpFetcherBackend", "AIOHttpCertificateFetcher", "AIOHttpCRLFetcher", "AIOHttpOCSPFetcher"),
}


class _NoNetwork:
    """Stands in for an HTTP client class in an offline analysis process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse()


def _refuse() -> NoReturn:
    raise RuntimeError("network access is disabled in this offline validation process")


def without_http_client() -> bool:
    """Install the placeholders unless pyHanko is already imported; True when installed."""
    if any(name in sys.modules for name in ("pyhanko.sign", "pyhanko_certvalidator.fetchers", "aiohttp")):
        return False
    for name, classes in _PLACEHOLDERS.items():
        mod = types.ModuleType(name, "offline placeholder (see signing.validation.offline)")
        for cls in classes:
            setattr(mod, cls, type(cls, (_NoNetwork,), {"__module__": name}))
        sys.modules[name] = mod
    return True


def restore() -> None:
    """Remove the placeholders (modules that imported them keep theirs; deferred imports such as
    pyHanko's default fetcher backend then load the real client)."""
    for name in _PLACEHOLDERS:
        mod = sys.modules.get(name)
        if mod is not None and (mod.__doc__ or "").startswith("offline placeholder"):
            del sys.modules[name]
