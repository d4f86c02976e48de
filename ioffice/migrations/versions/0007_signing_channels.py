"""signing channels: a signing method per official (server key, USB token, remote/CSC) and
batch signing records

Revision ID: 0007_signing_channels
Revises: 0005_attachments
"""
from alembic import op
import sqlalchemy as sa
import ioffice.kernel.db

revision = "0007_signing_channels"
down_revision = "0005_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_profiles",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("csc_provider", sa.String(length=64), nullable=True),
        sa.Column("csc_credential_id", sa.String(length=255), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_subject", sa.String(length=255), nullable=True),
        sa.Column("certificate_not_after", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_signing_profiles_org_id_organisations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signing_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_signing_profiles")),
    )
    op.create_index(op.f("ix_signing_profiles_org_id"), "signing_profiles", ["org_id"])
    op.create_table(
        "signing_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=1024), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ioffice.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_signing_batches_org_id_organisations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signing_batches_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_batches")),
    )
    op.create_index("ix_signing_batches_org_user", "signing_batches", ["org_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_signing_batches_org_user", table_name="signing_batches")
    op.drop_table("signing_batches")
    op.drop_index(op.f("ix_signing_profiles_org_id"), table_name="signing_profiles")
    op.drop_table("signing_profiles")
