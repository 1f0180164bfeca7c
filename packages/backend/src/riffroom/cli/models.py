"""`riffroom models [list|fetch NAME]`: which engines and models this machine can run; fetch weights."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import Settings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    mod: argparse.ArgumentParser = subparsers.add_parser("models", help="list engines and models, or fetch weights")
    mod.add_argument("action", nargs="?", choices=("list", "fetch"), default="list")
    mod.add_argument("name", nargs="?")
    mod.add_argument("--json", action="store_true")
    mod.set_defaults(func=cmd_models)
    return mod


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from ..separation.engines import models

    if args.action == "fetch":
        if not args.name:
            print("usage: riffroom models fetch NAME", file=sys.stderr)
            return 2
        models.fetch(args.name)
        print(f"{args.name}: weights downloaded")
        return 0
    rows = models.listing(settings.model_dir)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            print(f"{row['engine']:<9} {row['model']:<16} {row['weights']:<12} {row['stems']:<40} {row['about']}")
    return 0
