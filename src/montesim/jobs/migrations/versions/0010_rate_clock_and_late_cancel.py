"""the rate's clock (from the start of the first chunk this attempt persisted), cancels
that came while merging, priority and resource class (admission order and caps), a time
limit; why a worker refuses jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_since", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("resource_class", sa.String(length=32), nullable=False, server_default="cpu")
        )
        batch_op.add_column(sa.Column("time_limit", sa.Float(), nullable=True))

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problem", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("problem")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("time_limit")
        batch_op.drop_column("resource_class")
        batch_op.drop_column("priority")
        batch_op.drop_column("cancel_late")
        batch_op.drop_column("rate_since")
