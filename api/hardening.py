"""Files at rest readable by the service's user only: the data directory 0700, and everything the
process creates (database, keys, blobs, temporary uploads) 0600/0700 through the umask."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .settings import Settings


def secure_data_dir(settings: Settings) -> Path:
    """Set the process umask to 077, create the data directory 0700 (tightening an existing one),
    and make the SQLite database and the generated secret owner-only."""
    os.umask(0o077)
    data = settings.resolved_data_dir
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(data, 0o700)
    for name in ("ioffice.db", "ioffice.db-wal", "ioffice.db-shm", "secret.key", "demo-password.txt"):
        path = data / name
        if path.exists():
            _tighten(path, 0o600)
    for sub in ("blobs", "pki"):
        if (data / sub).is_dir():
            _tighten(data / sub, 0o700)
    return data


def _tighten(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(mode)
    except OSError:  # not ours (e.g. a mounted volume): leave it, the umask still applies to new files
        pass
