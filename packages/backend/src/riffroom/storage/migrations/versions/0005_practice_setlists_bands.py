"""practice: workspaces, practice log, setlists; bands and what is shared with them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_workspaces",
        sa.Column("song_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["song_id"], ["songs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("song_id", "user_id"),
    )
    op.create_index("ix_practice_workspaces_user_id", "practice_workspaces", ["user_id"], unique=False)

    op.create_table(
        "practice_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("song_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("loop_id", sa.String(length=64), nullable=True),
        sa.Column("tempo", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["song_id"], ["songs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "song_id", "client_id", name="uq_practice_log_client_id"),
    )
    op.create_index(
        "ix_practice_log_user_song_started", "practice_log", ["user_id", "song_id", "started_at"], unique=False
    )

    op.create_table(
        "setlists",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_setlists_owner_id"), "setlists", ["owner_id"], unique=False)

    op.create_table(
        "setlist_entries",
        sa.Column("setlist_id", sa.String(length=32), nullable=False),
        sa.Column("song_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["setlist_id"], ["setlists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["song_id"], ["songs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("setlist_id", "song_id"),
    )
    op.create_index(op.f("ix_setlist_entries_song_id"), "setlist_entries", ["song_id"], unique=False)

    op.create_table(
        "bands",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bands_owner_id"), "bands", ["owner_id"], unique=False)

    op.create_table(
        "band_members",
        sa.Column("band_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["band_id"], ["bands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band_id", "user_id"),
    )
    op.create_index(op.f("ix_band_members_user_id"), "band_members", ["user_id"], unique=False)

    op.create_table(
        "band_songs",
        sa.Column("band_id", sa.String(length=32), nullable=False),
        sa.Column("song_id", sa.String(length=32), nullable=False),
        sa.Column("shared_by", sa.String(length=64), nullable=False),
        sa.Column("shared_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["band_id"], ["bands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["song_id"], ["songs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band_id", "song_id"),
    )
    op.create_index(op.f("ix_band_songs_song_id"), "band_songs", ["song_id"], unique=False)

    op.create_table(
        "band_setlists",
        sa.Column("band_id", sa.String(length=32), nullable=False),
        sa.Column("setlist_id", sa.String(length=32), nullable=False),
        sa.Column("shared_by", sa.String(length=64), nullable=False),
        sa.Column("shared_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["band_id"], ["bands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["setlist_id"], ["setlists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band_id", "setlist_id"),
    )
    op.create_index(op.f("ix_band_setlists_setlist_id"), "band_setlists", ["setlist_id"], unique=False)


def downgrade() -> None:
    for table in ("band_setlists", "band_songs", "band_members", "bands", "setlist_entries", "setlists"):
        op.drop_table(table)
    op.drop_table("practice_log")
    op.drop_table("practice_workspaces")
