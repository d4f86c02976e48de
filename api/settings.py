"""Settings, read once from the environment (prefix ``IOFFICE_``) and passed to adapters."""
from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOFFICE_", extra="ignore")

    data_dir: Path = Path("./ioffice-data")
    database_url: str | None = None
    storage_url: str | None = None
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = True
    s3_region: str | None = None
    tsa_url: str | None = None  # None → the development TSA served by this instance
    trust_roots: str | None = None  # PEM file or folder; None → the development root
    secret_key: str | None = None  # None → generated into the data dir
    demo_password: str | None = None
    max_upload_mb: int = Field(default=100, ge=1)
    token_ttl_minutes: int = Field(default=480, ge=1)
    public_rate_limit_per_minute: int = Field(default=30, ge=1)
    base_url: str = "http://127.0.0.1:8000"
    pkcs11_module: str | None = None
    seal_key: str | None = None  # the agency's key: PKCS#12 path or pkcs11: URI (default: the dev PKI seal)
    seal_key_passphrase: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "ioffice@localhost"
    smtp_starttls: bool = False
    holidays: str | None = None  # comma-separated ISO dates added to the built-in public holidays
    signature_level: str | None = None  # default PAdES level; None → B-LT with a TSA, B-B without
    # remote signing (CSC API v1) providers: JSON {"name": {"url": base URL before /csc/v1,
    # "token": OAuth bearer or null}}, e.g. {"smartca": {"url": "https://…", "token": "…"}}
    csc_providers: dict[str, dict[str, str | None]] = Field(default_factory=dict)
    remote_confirm_timeout_seconds: float = Field(default=120.0, gt=0)  # waiting for the phone
    remote_poll_interval_seconds: float = Field(default=2.0, gt=0)

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'ioffice.db'}"

    @property
    def blob_url(self) -> str:
        return self.storage_url or f"file://{self.resolved_data_dir / 'blobs'}"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def pki_dir(self) -> Path:
        return self.resolved_data_dir / "pki"

    @cached_property
    def secret(self) -> bytes:
        """The token/key-encryption secret: from the environment, else generated into the data dir."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.resolved_data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            os.replace(tmp, path)
        return path.read_text().strip().encode()

    @property
    def pki_passphrase(self) -> bytes:
        """Passphrase protecting the development PKI's private keys at rest (derived, never logged)."""
        import hashlib

        return hashlib.sha256(b"ioffice-pki-v1:" + self.secret).hexdigest().encode()
