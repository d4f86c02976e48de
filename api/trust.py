"""Trust roots for validation, from settings (IOFFICE_TRUST_ROOTS) or the development root."""
from __future__ import annotations

import logging
import os

from .container import Container

log = logging.getLogger("ioffice")


def trust_roots(container: Container) -> list:
    """Configured roots (cached per app). A misconfigured path is logged and yields no roots."""
    cached = container.extras.get("trust_roots")
    if cached is not None:
        return cached
    from certs.trust import load_trust_roots

    settings = container.settings
    sources: list[str] = []
    if settings.trust_roots:
        sources = [s for s in settings.trust_roots.split(os.pathsep) if s]
    dev_root = settings.pki_dir / "root-ca.pem"
    if dev_root.exists() and (not settings.trust_roots or "devpki" in container.extras):
        sources.append(str(dev_root))
    try:
        roots = load_trust_roots(sources) if sources else []
    except (OSError, ValueError) as exc:
        log.error("trust roots could not be loaded: %s", exc)
        roots = []
    container.extras["trust_roots"] = roots
    return roots
