"""The root parser and `main()`: settings from RIFFROOM_* with the command line's overrides."""

from __future__ import annotations

import argparse
import sys

from ..config import get_settings
from ..errors import RiffRoomError
from . import analyze, bands, models, separate, serve, users, worker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="riffroom", description="Split songs into stems and practise with them.")
    sub = parser.add_subparsers(dest="command", required=True)
    separate.add_parser(sub)
    analyze.add_parser(sub)
    models.add_parser(sub)
    serve.add_parser(sub)
    worker.add_parser(sub)
    users.add_parser(sub)
    bands.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    overrides: dict[str, object] = {}
    if getattr(args, "engine", None):
        overrides["default_engine"] = args.engine
    if getattr(args, "device", None):
        overrides["device"] = args.device
    if overrides:
        settings = settings.model_copy(update=overrides)
    if getattr(args, "engine", "x") is None:
        args.engine = settings.default_engine
    try:
        return int(args.func(args, settings) or 0)
    except RiffRoomError as exc:
        print(f"riffroom: {exc}", file=sys.stderr)
        return 1
