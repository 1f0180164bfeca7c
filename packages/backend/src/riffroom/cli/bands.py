"""`riffroom bands create|add|remove|list`: the band room, managed from the server's machine.

riffroom bands create "The Riffs" --owner ana
riffroom bands add "The Riffs" bob          # a band by id, or by name when only one has it
riffroom bands remove "The Riffs" bob       # bob loses the band's songs at once
riffroom bands list [ana] [--json]

The same rules and code path as `/api/bands` (`api/band_store.py`), acting as the band's owner.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riffroom.config import Settings

if TYPE_CHECKING:
    from riffroom.storage.db import Database


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bands",
        help="manage bands (create, add, remove, list)",
        description="Manage bands: accounts that share songs and setlists.",
    )
    parser.add_argument("action", choices=("create", "add", "remove", "list"))
    parser.add_argument("band", nargs="?", help="create: the new band's name; add/remove: a band's id or name")
    parser.add_argument("user", nargs="?", help="add/remove: the member's user name; list: only this user's bands")
    parser.add_argument("--owner", help="create: the owner's user name")
    parser.add_argument("--data-dir", type=Path, help="where the database lives (as for `riffroom serve`)")
    parser.add_argument("--json", action="store_true", help="list: JSON lines")
    parser.set_defaults(func=run)
    return parser


def _user_id(db: Database, username: str) -> str:
    from sqlalchemy import select

    from riffroom.api.errors import ApiError
    from riffroom.storage.auth_models import User

    with db.read() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise ApiError(404, "not_found", f"no user {username}")
    return str(user_id)


def _find_band(db: Database, ref: str) -> tuple[str, str]:
    """(band id, owner id) of the band with this id, or the only band with this name."""
    from sqlalchemy import or_, select

    from riffroom.api.errors import ApiError
    from riffroom.storage.band_models import Band

    with db.read() as s:
        found = s.execute(select(Band.id, Band.owner_id).where(or_(Band.id == ref, Band.name == ref))).all()
    if not found:
        raise ApiError(404, "not_found", f"no band {ref}")
    if len(found) > 1:
        raise ApiError(
            409, "ambiguous", f"{len(found)} bands are named {ref}; give the band's id (riffroom bands list)"
        )
    return str(found[0][0]), str(found[0][1])


def _print_bands(db: Database, user: str | None, as_json: bool) -> None:
    from sqlalchemy import select

    from riffroom.api import band_store
    from riffroom.storage.band_models import Band

    if user is not None:
        bands = band_store.bands_of(db, _user_id(db, user))
    else:
        with db.read() as s:
            refs = s.execute(select(Band.id, Band.owner_id).order_by(Band.name)).all()
        bands = [band_store.get_band(db, band_id, owner_id) for band_id, owner_id in refs]
    for band in bands:
        if as_json:
            print(json.dumps(band.model_dump(exclude={"role"})))
        else:
            members = ", ".join(m.username + (" (owner)" if m.role == "owner" else "") for m in band.members)
            print(f"{band.id}  {band.name}: {members}; {len(band.songs)} songs, {len(band.setlists)} setlists")


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from riffroom.api import band_store
    from riffroom.api.errors import ApiError
    from riffroom.storage.db import Database

    settings = settings if settings is not None else Settings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    usage = {
        "create": "riffroom bands create NAME --owner USER",
        "add": "riffroom bands add BAND USER",
        "remove": "riffroom bands remove BAND USER",
    }
    missing = (args.action == "create" and not (args.band and args.owner)) or (
        args.action in ("add", "remove") and not (args.band and args.user)
    )
    if missing:
        print(f"usage: {usage[args.action]}", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.migrate()  # the schema as the server makes it
    try:
        if args.action == "list":
            _print_bands(db, args.band, args.json)
        elif args.action == "create":
            band = band_store.create_band(db, _user_id(db, args.owner), args.band)
            print(f"band {band.name} created ({band.id}), owned by {args.owner}", file=sys.stderr)
            print(band.id)
        elif args.action == "add":
            band_id, owner_id = _find_band(db, args.band)
            band_store.add_member(db, band_id, owner_id, args.user)
            print(f"{args.user} is in {args.band}", file=sys.stderr)
        else:
            band_id, owner_id = _find_band(db, args.band)
            band_store.remove_member(db, band_id, owner_id, args.user)
            print(
                f"{args.user} removed from {args.band} (open WebSockets follow within ws_access_recheck_seconds)",
                file=sys.stderr,
            )
    except ApiError as exc:
        print(f"riffroom: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0
