"""tokens (MONTESIM_AUTH=tokens); owner on files, batches and model setups

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index("ix_tokens_name", ["name"], unique=False)
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_files_owner", ["owner"], unique=False)
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_batches_owner", ["owner"], unique=False)
    # A setup's name is unique per owner (two owners may both have "Base case").
    with op.batch_alter_table("model_setups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("uq_model_setups_filename_name", type_="unique")
        batch_op.create_unique_constraint(
            "uq_model_setups_owner_filename_name", ["owner", "filename", "name"]
        )


def downgrade() -> None:
    with op.batch_alter_table("model_setups", schema=None) as batch_op:
        batch_op.drop_constraint("uq_model_setups_owner_filename_name", type_="unique")
        batch_op.create_unique_constraint("uq_model_setups_filename_name", ["filename", "name"])
        batch_op.drop_column("owner")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_owner")
        batch_op.drop_column("owner")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_owner")
        batch_op.drop_column("owner")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_name")
    op.drop_table("tokens")
