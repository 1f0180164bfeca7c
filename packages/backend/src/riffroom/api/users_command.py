"""`riffroom users add|remove|passwd|list`: accounts, managed from the server's machine.

    echo 'a long passphrase' | riffroom users add ana      # no terminal: the password is stdin's first line
    riffroom users list --json
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any


def add_users_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "users", help="manage accounts (add, remove, passwd, list)",
        description="Manage accounts. Passwords are read from the terminal, or from standard input's first line.",
    )
    parser.add_argument("action", choices=("add", "remove", "passwd", "list"))
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


def _remove_songs(settings: Any, db: Any, user_id: str) -> int:
    from sqlalchemy import delete, func, select

    from riffroom.jobs import store
    from riffroom.storage.blobs import open_blob_store
    from riffroom.storage.models import ACTIVE_STATES, Job, Song

    with db.read() as s:
        songs = list(s.scalars(select(Song).where(Song.owner_id == user_id)))
        active = list(s.scalars(select(Job.id).join(Song, Song.id == Job.song_id)
                                .where(Song.owner_id == user_id, Job.state.in_(ACTIVE_STATES))))
    for job_id in active:
        store.request_cancel(db, job_id)
    blobs = open_blob_store(settings.resolved_blob_url)
    for song in songs:
        with db.write() as s:
            s.execute(delete(Song).where(Song.id == song.id))
            used = s.scalar(select(func.count()).select_from(Song).where(Song.blob_key == song.blob_key))
        if not used:
            blobs.delete(song.blob_key)
    return len(songs)


def run_users(args: argparse.Namespace, settings: Any = None) -> int:
    from riffroom.api import security
    from riffroom.config import Settings
    from riffroom.storage.db import Database

    settings = settings if settings is not None else Settings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    if args.action != "list" and not args.name:
        print(f"usage: riffroom users {args.action} NAME", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    getattr(db, "migrate", db.create_all)()  # the schema as the server makes it
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
