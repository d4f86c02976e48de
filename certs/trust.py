"""Trust roots: PEM/DER files or folders of them (the paths come from the caller's settings)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

_EXTS = {".pem", ".crt", ".cer", ".der"}


def _certs_in_file(path: Path) -> list[asn1_x509.Certificate]:
    data = path.read_bytes()
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for typ, _, der in pem.unarmor(data, multiple=True)
                if typ == "CERTIFICATE"]
    return [asn1_x509.Certificate.load(data)]


def load_trust_roots(sources: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] | None = None
                     ) -> list[asn1_x509.Certificate]:
    """Certificates from PEM/DER files and folders (non-recursive, *.pem/*.crt/*.cer/*.der).

    ``sources`` may be one path, several, or None (no roots). Raises FileNotFoundError for a
    missing path and ValueError for a file that is not a certificate. Duplicates are dropped.
    """
    if sources is None:
        return []
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    out: list[asn1_x509.Certificate] = []
    seen: set[bytes] = set()
    for src in sources:
        p = Path(src)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix.lower() in _EXTS and f.is_file())
        elif p.is_file():
            files = [p]
        else:
            raise FileNotFoundError(str(p))
        for f in files:
            try:
                certs = _certs_in_file(f)
            except Exception as exc:
                raise ValueError(f"{f.name} is not a certificate file") from exc
            for c in certs:
                d = c.dump()
                if d not in seen:
                    seen.add(d)
                    out.append(c)
    return out
