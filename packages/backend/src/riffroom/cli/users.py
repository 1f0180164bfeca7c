"""`riffroom users add|remove|passwd|list|adopt`: accounts, managed from the server's machine.

echo 'a long passphrase' | riffroom users add ana      # no terminal: the password is stdin's first line
riffroom users list --json
riffroom users adopt ana     # songs uploaded before accounts existed become ana's
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riffroom.config import Settings

if TYPE_CHECKING:
    from riffroom.storage.db import Database


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "users",
        help="manage accounts (add, remove, passwd, list, adopt)",
        description="Manage accounts. Passwords are read from the terminal, or from standard input's first line.",
    )
    parser.add_argument(
        "action",
        choices=("add", "remove", "passwd", "list", "adopt"),
        help="adopt NAME: give NAME the songs uploaded while the server had no accounts",
    )
    parser.add_argument("name", nargs="?")
    parser.add_argument("--data-dir", type=Path, help="where the database lives (as for `riffroom serve`)")
    parser.add_argument("--keep-songs", action="store_true", help="remove: keep the user's songs in the database")
    parser.add_argument("--json", action="store_true", help="list: JSON lines")
    parser.set_defaults(func=run_users)
    return parser


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("riffroom: the passwords differ; nothing changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _remove_songs(settings: Settings, db: Database, user_id: str) -> int:
    from sqlalchemy import select

    from riffroom.api.library import delete_song
    from riffroom.storage.blobs import open_blob_store
    from riffroom.storage.models import Song

    with db.read() as s:
        songs = list(s.scalars(select(Song).where(Song.owner_id == user_id)))
    blobs = open_blob_store(settings.resolved_blob_url, settings)
    for song in songs:
        delete_song(db, blobs, song)
    return len(songs)


def _local_song_count(db: Database) -> int:
    from sqlalchemy import func, select

    from riffroom.api.security import LOCAL_OWNER
    from riffroom.storage.models import Song

    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Song).where(Song.owner_id == LOCAL_OWNER)) or 0)


def adopt_local_songs(db: Database, username: str) -> tuple[int, int]:
    """Songs uploaded without accounts (owner `local`) become `username`'s, with their separations.

    Returns (adopted, left): a song the user already has (same content) stays where it was.
    """
    from sqlalchemy import select

    from riffroom.api.security import LOCAL_OWNER, AccountError
    from riffroom.jobs.store import dedupe_key
    from riffroom.storage.auth_models import User
    from riffroom.storage.models import Job, Song

    with db.write() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise AccountError(f"no user {username}")
        has = set(s.scalars(select(Song.sha256).where(Song.owner_id == user.id)))
        adopted = left = 0
        for song in s.scalars(select(Song).where(Song.owner_id == LOCAL_OWNER)).all():
            if song.sha256 in has:
                left += 1
                continue
            song.owner_id = user.id
            for job in s.scalars(select(Job).where(Job.song_id == song.id)):
                # the owner is part of the key that joins identical requests
                job.dedupe_key = dedupe_key(song.sha256, job.engine, job.model, job.stems, song.owner_id)
            adopted += 1
    return adopted, left


def run_users(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from riffroom.api import security
    from riffroom.storage.db import Database

    settings = settings if settings is not None else Settings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    if args.action != "list" and not args.name:
        print(f"usage: riffroom users {args.action} NAME", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.migrate()  # the schema as the server makes it
    try:
        if args.action == "list":
            for user in security.list_users(db):
                if args.json:
                    print(json.dumps({"id": user.id, "username": user.username, "created_at": user.created_at}))
                else:
                    print(user.username)
        elif args.action == "add":
            security.create_user(db, args.name, _read_password(args.name))
            print(f"user {args.name} added; login is now required on this server", file=sys.stderr)
            hidden = _local_song_count(db)
            if hidden and security.user_count(db) == 1:
                print(
                    f"{hidden} songs uploaded before accounts existed are now hidden; "
                    f"`riffroom users adopt {args.name}` gives them to {args.name}",
                    file=sys.stderr,
                )
        elif args.action == "adopt":
            adopted, left = adopt_local_songs(db, args.name)
            note = f"; {left} left out (already {args.name}'s)" if left else ""
            print(f"{adopted} songs are now {args.name}'s{note}", file=sys.stderr)
        elif args.action == "passwd":
            security.set_password(db, args.name, _read_password(args.name))
            print(f"password of {args.name} changed; its sessions were logged out", file=sys.stderr)
        else:
            user_id = security.remove_user(db, args.name)
            removed = 0 if args.keep_songs else _remove_songs(settings, db, user_id)
            print(f"user {args.name} removed ({removed} songs deleted)", file=sys.stderr)
    except security.AccountError as exc:
        print(f"riffroom: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0
