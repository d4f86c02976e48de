"""certified and agency electronic copies

Revision ID: 0006_copies
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import ioffice.kernel.db

revision = "0006_copies"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("requester_name", sa.String(length=255), nullable=True),
        sa.Column("requester_id_number", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("certified_date", sa.Date(), nullable=False),
        sa.Column("certifier_id", sa.String(length=32), nullable=True),
        sa.Column("certifier_name", sa.String(length=255), nullable=False),
        sa.Column("certifier_position", sa.String(length=128), nullable=True),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("revoked_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=32), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_copies_org_id_organisations")),
        sa.ForeignKeyConstraint(["certifier_id"], ["users.id"], name=op.f("fk_copies_certifier_id_users")),
        sa.ForeignKeyConstraint(["revoked_by"], ["users.id"], name=op.f("fk_copies_revoked_by_users")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_copies_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copies")),
        sa.UniqueConstraint("code", name=op.f("uq_copies_code")),
        sa.UniqueConstraint("org_id", "kind", "year", "number", name=op.f("uq_copies_org_id")),
    )
    op.create_index(op.f("ix_copies_org_id"), "copies", ["org_id"])
    op.create_index(op.f("ix_copies_sha256"), "copies", ["sha256"])
    op.create_index("ix_copies_org_kind_year", "copies", ["org_id", "kind", "year"])


def downgrade() -> None:
    op.drop_index("ix_copies_org_kind_year", table_name="copies")
    op.drop_index(op.f("ix_copies_sha256"), table_name="copies")
    op.drop_index(op.f("ix_copies_org_id"), table_name="copies")
    op.drop_table("copies")
