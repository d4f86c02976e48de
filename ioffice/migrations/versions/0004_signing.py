"""signing requests (idempotency) and external signing sessions

Revision ID: 0004_signing
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import ioffice.kernel.db

revision = "0004_signing"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("result_version_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_signing_requests_document_id_documents")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_signing_requests_org_id_organisations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signing_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_requests")),
        sa.UniqueConstraint("org_id", "idempotency_key", name=op.f("uq_signing_requests_org_id")),
    )
    op.create_table(
        "signing_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("base_version_id", sa.String(length=32), nullable=False),
        sa.Column("base_sha256", sa.String(length=64), nullable=False),
        sa.Column("prepared_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result_version_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_signing_sessions_document_id_documents")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_signing_sessions_org_id_organisations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signing_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_sessions")),
    )
    op.create_index("ix_signing_sessions_org_status", "signing_sessions", ["org_id", "status"])
    op.create_index(op.f("ix_signing_sessions_document_id"), "signing_sessions", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signing_sessions_document_id"), table_name="signing_sessions")
    op.drop_index("ix_signing_sessions_org_status", table_name="signing_sessions")
    op.drop_table("signing_sessions")
    op.drop_table("signing_requests")
