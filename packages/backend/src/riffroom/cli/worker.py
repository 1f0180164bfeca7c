"""`riffroom worker`: run separation jobs from the Dramatiq queue on this host (scale-out).

    RIFFROOM_QUEUE_URL=redis://redis:6379/0 RIFFROOM_DATABASE_URL=postgresql://... \\
    RIFFROOM_BLOB_URL=s3://riffroom/prod riffroom worker --processes 2

Supervises `--processes` worker subprocesses exactly as `riffroom serve` does its embedded
ones (same Supervisor, same runner): each loads its model once and takes one job at a time;
a dead one is replaced and its job sent again; a job past its timeout or cancel grace period
gets its process killed. Stops on SIGTERM/SIGINT, handing running jobs back to the queue.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from riffroom.config import Settings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="run separation jobs from the Redis queue (scale-out)",
        description="Run separation worker processes that take jobs from RIFFROOM_QUEUE_URL (redis://). "
        "Settings also come from RIFFROOM_* variables.",
    )
    parser.add_argument("--processes", type=int, help="worker processes on this host (default: RIFFROOM_WORKERS, 1)")
    parser.add_argument("--queue-url", help="redis://host:port/db (default RIFFROOM_QUEUE_URL)")
    parser.add_argument("--database-url", help="postgresql://... (default RIFFROOM_DATABASE_URL)")
    parser.add_argument("--data-dir", type=Path, help="local scratch: the stem cache and temporary files")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=run_worker)
    return parser


def run_worker(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from riffroom.jobs.queue import open_worker_host
    from riffroom.storage.db import Database

    overrides = {
        k: v
        for k, v in {
            "workers": args.processes,
            "queue_url": args.queue_url,
            "database_url": args.database_url,
            "data_dir": args.data_dir,
        }.items()
        if v is not None
    }
    base = settings if settings is not None else Settings()
    settings = Settings.model_validate({**base.model_dump(), **overrides})
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("riffroom.worker")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, pool_size=2, busy_timeout_seconds=settings.db_busy_timeout_seconds)
    try:
        host = open_worker_host(settings, db)
    except ValueError as exc:  # a queue without room for other hosts' workers, or a bad URL
        log.error("%s", exc)
        db.dispose()
        return 2
    db.migrate()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    host.start()
    log.info("worker host %s: %d process(es) on %s", host.node, settings.workers, settings.queue_url)
    try:
        stop.wait()
    finally:
        host.stop()
        db.dispose()
    return 0
