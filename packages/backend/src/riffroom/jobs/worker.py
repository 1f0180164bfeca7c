"""A worker process: `python -m riffroom.jobs.worker --worker-id ID`, settings JSON on stdin.

Takes one job at a time from the queue backend's consumer (jobs/queue.py, open_job_consumer) and
runs it with runner.run_job. Runs at lower CPU priority than the API, dies with its parent, and
on SIGTERM hands its job back to the queue before exiting.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
import threading

from riffroom.config import Settings
from riffroom.events import open_event_publisher
from riffroom.jobs.queue import open_job_consumer
from riffroom.jobs.runner import WorkerContext
from riffroom.storage.blobs import open_blob_store
from riffroom.storage.db import Database

log = logging.getLogger("riffroom.worker")


def _die_with_parent(parent_pid: int | None) -> bool:
    """Linux: SIGKILL this process when the server dies, so no worker outlives it. False when the
    server already died before the signal was armed (a server killed while this worker was still
    starting): the worker, adopted by init, would otherwise claim jobs the next server also runs."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    return parent_pid is None or os.getppid() == parent_pid


def _lower_priority(nice: int) -> None:
    """Below the API: a higher nice value, and SCHED_BATCH so a worker never preempts on wake-up."""
    try:
        os.nice(nice)
    except OSError:
        log.warning("could not lower CPU priority")
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="riffroom-worker")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--parent-pid", type=int, help="the server's pid: exit at once if it is already gone")
    args = parser.parse_args(argv)
    if not _die_with_parent(args.parent_pid):
        print(f"worker {args.worker_id}: the server (pid {args.parent_pid}) is gone; exiting", file=sys.stderr)
        return 1
    settings = Settings.model_validate_json(sys.stdin.read())
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s worker {args.worker_id}: %(message)s")
    _lower_priority(settings.worker_nice)
    shutdown = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: shutdown.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    db = Database(settings.resolved_database_url, pool_size=2, busy_timeout_seconds=settings.db_busy_timeout_seconds)
    publisher = open_event_publisher(settings)
    if publisher is not None:
        db.on_events = publisher.publish
    ctx = WorkerContext(
        settings=settings,
        db=db,
        blobs=open_blob_store(settings.resolved_blob_url, settings),
        worker_id=args.worker_id,
        shutdown=shutdown,
    )
    consumer = open_job_consumer(settings)
    log.info("ready (pid %d)", os.getpid())
    try:
        consumer.consume(ctx)
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
