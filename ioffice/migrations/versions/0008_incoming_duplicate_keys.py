"""Recompute the incoming register's duplicate keys with the normalisation that also folds
issuing-body names to their abbreviations, dashes, punctuation and leading zeros (data only).

Revision ID: 0008_incoming_duplicate_keys
Revises: 0002_registers
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_incoming_duplicate_keys"
down_revision = "0002_registers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from ioffice.registers.dupkey import duplicate_key

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT r.id, d.issuing_body, d.issuing_body_code, d.number_symbol, d.issued_date "
        "FROM incoming_register r JOIN documents d ON d.id = r.document_id")).all()
    for row_id, body, code, number_symbol, issued in rows:
        day = str(issued)[:10] if issued else ""
        key = duplicate_key(issuer=body or code, number_symbol=number_symbol, issued_date=day)
        bind.execute(sa.text("UPDATE incoming_register SET duplicate_key = :k WHERE id = :i"), {"k": key, "i": row_id})


def downgrade() -> None:
    pass  # the keys stay in the new form (older code still matches documents written alike)
