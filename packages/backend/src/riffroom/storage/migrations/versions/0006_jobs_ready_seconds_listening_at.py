"""jobs: ready_seconds (how much of the stems is final), listening_at (a player is waiting)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-28 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ready_seconds", sa.Float(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("listening_at", sa.Float(), nullable=True))
    # A job finished before this revision has all of its song ready.
    op.execute(
        "UPDATE jobs SET ready_seconds = (SELECT songs.duration FROM songs WHERE songs.id = jobs.song_id)"
        " WHERE state = 'done'"
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("listening_at")
        batch_op.drop_column("ready_seconds")
