"""jobs: engine_used, model_used (what the worker chose; `auto` is resolved there)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engine_used", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("model_used", sa.String(length=64), nullable=True))
    # Jobs from before this revision stored the engine the API had already resolved.
    op.execute("UPDATE jobs SET engine_used = engine, model_used = model WHERE state = 'done'")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("model_used")
        batch_op.drop_column("engine_used")
