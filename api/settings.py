"""Settings, read once from the environment (prefix ``IOFFICE_``) and passed to adapters."""
from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
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
    secret_key: str | None = None  # the master secret; None → secret_key_file, else generated into the data dir
    secret_key_file: Path | None = None  # a file outside the data dir holding the master secret
    demo_password: str | None = None
    max_upload_mb: int = Field(default=100, ge=1)
    token_ttl_minutes: int = Field(default=480, ge=1)
    public_rate_limit_per_minute: int = Field(default=30, ge=1)
    # MB of files validated at once by the public /verify (memory ≈ 3× that); beyond → 503 + Retry-After
    public_validation_budget_mb: int = Field(default=300, ge=1)
    public_validation_timeout_seconds: float = Field(default=20, gt=0)  # one public validation, wall clock
    body_timeout_seconds: float = Field(default=30, gt=0)  # a request body idle this long → 408
    dev_pki_rate_limit_per_minute: int = Field(default=600, ge=1)
    trusted_proxies: str = ""  # comma-separated IPs/CIDRs whose X-Forwarded-For is believed
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
    # the service timestamps every audit chain head that moved, this often (0: only `ioffice audit anchor`)
    audit_anchor_interval_minutes: float = Field(default=60, ge=0)
    # PostgreSQL connections kept open per worker process (a request holds one), and the extra
    # ones opened for a burst; keep workers × (pool + overflow) under the server's max_connections
    db_pool_size: int = Field(default=24, ge=1)
    db_max_overflow: int = Field(default=6, ge=0)
    # requests a worker process runs at once; the others wait their turn in arrival order (0: no
    # limit). A request that runs longer than the lease stops counting, so a slow upload, download
    # or signature never holds up the short ones for more than the lease.
    worker_concurrency: int = Field(default=2, ge=0)
    worker_lease_ms: int = Field(default=100, ge=1)
    # background jobs (huey): where the queue lives (None → the PostgreSQL database itself, or
    # jobs.db next to the SQLite database); whether `ioffice serve` runs a worker in its own process
    # (None → yes on SQLite, no on PostgreSQL where `ioffice worker` runs apart); worker threads
    jobs_url: str | None = None
    jobs_in_process: bool | None = None
    jobs_threads: int = Field(default=2, ge=1)
    # B-LTA renewal: documents whose latest document timestamp's TSA certificate expires within this
    # many days get a new document timestamp; the job runs daily at this hour (UTC)
    timestamp_renewal_days: int = Field(default=180, ge=1)
    timestamp_renewal_hour: int = Field(default=2, ge=0, le=23)
    mail_retries: int = Field(default=5, ge=0)
    mail_retry_delay_seconds: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _from_data_dir(self) -> Settings:
        """Keys and roots imported with ``ioffice key import-seal`` / ``ioffice trust add``."""
        home = self.resolved_data_dir
        if self.seal_key is None and (home / "keys" / "seal.ref").is_file():
            self.seal_key = (home / "keys" / "seal.ref").read_text().strip() or None
        if self.trust_roots is None and (home / "trust").is_dir() and any((home / "trust").glob("*.pem")):
            self.trust_roots = str(home / "trust")
        return self

    @property
    def production_trust(self) -> bool:
        """A real agency key and TSA are configured: the development TSA/OCSP must not be served."""
        return bool(self.seal_key and self.tsa_url)

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
    def trust_root_paths(self) -> list[str]:
        """``IOFFICE_TRUST_ROOTS`` split into paths (``os.pathsep``-separated)."""
        return [s for s in (self.trust_roots or "").split(os.pathsep) if s]

    @property
    def public_validation_budget_bytes(self) -> int:
        return self.public_validation_budget_mb * 1024 * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def pki_dir(self) -> Path:
        return self.resolved_data_dir / "pki"

    @cached_property
    def secret(self) -> bytes:
        """The master secret (never used directly as a key: see ``token_key``): from the environment or
        ``secret_key_file``; generated into the data dir only in development. In production (a real
        seal key and TSA) it must come from outside the data directory."""
        if self.secret_key:
            return self.secret_key.encode()
        if self.secret_key_file:
            path = self.secret_key_file.expanduser().resolve()
            if path.is_relative_to(self.resolved_data_dir):
                raise ValueError("IOFFICE_SECRET_KEY_FILE must be outside the data directory")
            return path.read_text().strip().encode()
        if self.production_trust:
            raise ValueError("production (IOFFICE_SEAL_KEY and IOFFICE_TSA_URL set) needs IOFFICE_SECRET_KEY or "
                             "IOFFICE_SECRET_KEY_FILE (outside the data directory)")
        path = self.resolved_data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            os.replace(tmp, path)
        return path.read_text().strip().encode()

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived from the master secret with HKDF-SHA256 (RFC 5869)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ioffice-kdf-v1",
                    info=purpose.encode()).derive(self.secret)

    @cached_property
    def token_key(self) -> bytes:
        """Signs login tokens; unrelated to the key-encryption passphrase."""
        return self.derive_key("ioffice/login-token-signing/v1")

    @property
    def pki_passphrase(self) -> bytes:
        """Passphrase protecting the development PKI's private keys at rest (derived, never logged)."""
        import hashlib

        return hashlib.sha256(b"ioffice-pki-v1:" + self.secret).hexdigest().encode()
