"""attachments sent as separate files

Revision ID: 0005_attachments
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import ioffice.kernel.db

revision = "0005_attachments"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("signed_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_attachments_created_by_users")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_attachments_document_id_documents")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_attachments_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("document_id", "seq", name=op.f("uq_attachments_document_id")),
    )
    op.create_index(op.f("ix_attachments_document_id"), "attachments", ["document_id"])
    op.create_index(op.f("ix_attachments_org_id"), "attachments", ["org_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_org_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_document_id"), table_name="attachments")
    op.drop_table("attachments")
