"""How many of this host's cores a job may use now: all of them alone, an equal share beside others.

Several workers run one job each (more jobs per hour than one worker on every core), but a lone
job, the musician waiting on one new song, would then leave every other core idle. Each worker
holds an flock on its own file in a host-local folder while it runs a job; a job asks before each
batch of windows how many files are locked and takes `cores // busy`. The kernel drops the lock
of a worker that dies (even by SIGKILL), so a dead worker never counts; its file is removed by
the next count that finds it unlocked and a few seconds old.

    share = CoreShare(settings.data_dir / "run" / "busy", worker_id)
    with share.busy():
        separate(..., cores=share.cores_now)
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from riffroom.config import host_cores

log = logging.getLogger(__name__)

# A file younger than this may belong to a worker between creating and locking it: never removed.
STALE_AFTER_SECONDS = 5.0


class CoreShare:
    """One worker's view of the host's busy workers (see the module's docstring)."""

    def __init__(self, directory: Path, worker_id: str, cores: int | None = None) -> None:
        self.directory = directory
        self.cores = cores or host_cores()
        self._path = directory / f"{worker_id}.busy"

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Counted as busy while inside; a failure to count (odd file system) only costs the sharing."""
        fd = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            log.warning("cannot mark this worker busy in %s; jobs here will not share cores", self.directory)
        try:
            yield
        finally:
            if fd is not None:
                self._path.unlink(missing_ok=True)
                os.close(fd)  # the lock goes with the descriptor

    def busy_workers(self) -> int:
        """Workers of this host running a job now (this one included, when it is)."""
        count = 0
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 1
        for name in names:
            if name.endswith(".busy") and self._held(self.directory / name):
                count += 1
        return count

    def cores_now(self) -> int:
        """This job's share of the cores: all of them alone, `cores // busy` (at least 1) beside others."""
        return max(1, self.cores // max(1, self.busy_workers()))

    @staticmethod
    def _held(path: Path) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # gone in between
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            # Unlocked: a worker that died in a job (or has not locked it yet, if it is new).
            if time.time() - os.fstat(fd).st_mtime > STALE_AFTER_SECONDS:
                path.unlink(missing_ok=True)
            return False
        finally:
            os.close(fd)
