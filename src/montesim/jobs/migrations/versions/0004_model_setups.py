"""model setups saved from the workbook studio

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_setups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=36), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("filename", "name", name="uq_model_setups_filename_name"),
    )
    with op.batch_alter_table("model_setups", schema=None) as batch_op:
        batch_op.create_index("ix_model_setups_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_setups", schema=None) as batch_op:
        batch_op.drop_index("ix_model_setups_sha256")
    op.drop_table("model_setups")
