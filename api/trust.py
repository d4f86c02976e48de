"""Trust roots for validation, from settings (IOFFICE_TRUST_ROOTS) or the development root."""
from __future__ import annotations

import logging
from typing import Any

from .container import Container

log = logging.getLogger("ioffice")


def trust_roots(container: Container) -> list[Any]:
    """Configured roots (cached per app). A misconfigured path is logged and yields no roots."""
    cached = container.trust_roots_cache
    if cached is not None:
        return cached
    from certs.trust import load_trust_roots

    settings = container.settings
    sources = list(settings.trust_root_paths)
    dev_root = settings.pki_dir / "root-ca.pem"
    if dev_root.exists() and (not settings.trust_roots or container.devpki is not None):
        sources.append(str(dev_root))
    try:
        roots = load_trust_roots(sources) if sources else []
    except (OSError, ValueError) as exc:
        log.error("trust roots could not be loaded: %s", exc)
        roots = []
    container.trust_roots_cache = roots
    return roots
