"""Database migrations (Alembic), run programmatically: ``upgrade(engine)`` is idempotent."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision of every branch ("heads")."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def revision(url: str, message: str, rev_id: str) -> None:  # pragma: no cover - developer tool
    """Autogenerate a revision (developers: ``python -m ioffice.migrate "msg" 0002_name``)."""
    command.revision(alembic_config(url), message=message, rev_id=rev_id, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    import sys

    revision(sys.argv[3] if len(sys.argv) > 3 else "sqlite:////tmp/ioffice-autogen.db", sys.argv[1], sys.argv[2])
