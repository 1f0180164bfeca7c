"""analysis_corrections: a user's corrections to a song's analysis (grid, tempo, meter, chords)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_corrections",
        sa.Column("song_id", sa.String(length=32), nullable=False),
        sa.Column("first_downbeat", sa.Float(), nullable=True),
        sa.Column("tempo_factor", sa.Float(), nullable=False),
        sa.Column("time_signature", sa.String(length=8), nullable=True),
        sa.Column("chords", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["song_id"], ["songs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("song_id"),
    )


def downgrade() -> None:
    op.drop_table("analysis_corrections")
