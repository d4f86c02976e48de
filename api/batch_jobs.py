"""The batch-signing job's wiring: the container's sessions, store and signing adapter."""
from __future__ import annotations

from ioffice import batches

from .container import Container
from .signing_adapter import adapter


def run_server_batch(container: Container, *, batch_id: str, user_id: str, level: str | None,
                     client_addr: str | None) -> None:
    a = adapter(container)
    batches.run_server_batch(container.sessions, container.store, a, batch_id=batch_id, user_id=user_id,
                             client_addr=client_addr, level=level, default_level=a.default_level(),
                             max_size=container.settings.max_upload_bytes)
