"""`riffroom serve`: the API, the WebSocket and the supervised workers in one command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from riffroom.config import Settings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the RiffRoom server (API, WebSocket, workers)",
        description="Serve the API and supervise the worker processes. Settings also come from RIFFROOM_* variables.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--data-dir", type=Path, help="where songs, stems and the database live")
    parser.add_argument(
        "--workers",
        type=int,
        help="separation worker processes (default: one per CPU core, each with one torch thread)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=run_serve)
    return parser


def _refuse_open_without_users(settings: Settings) -> str | None:
    """Listening beyond loopback needs at least one account; say how to add one."""
    if settings.binds_loopback:
        return None
    from riffroom.api.security import user_count
    from riffroom.storage.db import Database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    try:
        db.migrate()  # the schema as the server makes it
        if user_count(db) > 0:
            return None
    finally:
        db.dispose()
    data = f" --data-dir {settings.data_dir}" if settings.data_dir else ""
    return (
        f"refusing to listen on {settings.host}: anyone on the network could reach it and no account exists. "
        f"Add one first: riffroom users add NAME{data}   (or listen on 127.0.0.1)"
    )


def _bad_worker_setting() -> str | None:
    """A RIFFROOM_ALLOCATOR or RIFFROOM_MKL_DISPATCH naming no choice, said at start (the
    supervisor would otherwise fail at every worker it starts)."""
    from riffroom import allocator, mkl_dispatch

    try:
        allocator.choice()
        mkl_dispatch.choice()
    except ValueError as exc:
        return str(exc)
    return None


def run_serve(args: argparse.Namespace, settings: Settings | None = None) -> int:
    import uvicorn

    from riffroom.api.app import create_app

    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "data_dir": args.data_dir,
            "workers": args.workers,
        }.items()
        if v is not None
    }
    base = settings if settings is not None else Settings()
    settings = Settings.model_validate({**base.model_dump(), **overrides})
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    refusal = _refuse_open_without_users(settings) or _bad_worker_setting()
    if refusal:
        print(f"riffroom: {refusal}", file=sys.stderr)
        return 2
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=False,
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=None,
        ws_ping_timeout=None,
        timeout_graceful_shutdown=10,
        ws="websockets-sansio",
    )
    return 0
