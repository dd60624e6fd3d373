"""the deployment's signing key, made once in the store (partials and stream tickets)

Every process on one store reads this key, so a partial signed by one worker verifies on
any other and a stream ticket from one API replica works on every replica, with nothing
to configure. MONTESIM_SECRET_KEY, when set, still takes precedence.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 02:00:00
"""

import secrets
import time

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

meta = sa.table(
    "meta",
    sa.column("key", sa.String),
    sa.column("value", sa.JSON),
    sa.column("updated_at", sa.Float),
)


def upgrade() -> None:
    op.bulk_insert(
        meta, [{"key": "signing_key", "value": secrets.token_hex(32), "updated_at": time.time()}]
    )


def downgrade() -> None:
    op.execute(meta.delete().where(meta.c.key == "signing_key"))
