"""A worker whose server died while it was still starting exits instead of claiming jobs.

The chaos campaign found one job run by two workers at once: a server SIGKILLed while a worker it
had just spawned was still importing (before it armed PR_SET_PDEATHSIG) left that worker alive,
adopted by init; it went on claiming jobs beside the next server's workers. Here a real parent
process spawns a real worker and dies at once, as that server did; a job waits in the queue.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.jobs.supervisor import WORKER_MODULE
from riffroom.storage.db import Database
from riffroom.storage.models import Job

from tests.storage.rows import add_song

# The parent starts the worker with its own pid (as the supervisor does) and exits at once.
_PARENT = """
import subprocess, sys
proc = subprocess.Popen(
    [sys.executable, "-m", sys.argv[1], "--worker-id", "orphan-0-1", "--parent-pid", str(__import__("os").getpid())],
    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(sys.argv[3], "wb"),
)
proc.stdin.write(open(sys.argv[2], "rb").read())
proc.stdin.close()
print(proc.pid, flush=True)
"""


def _queued_job(tmp_path: Path) -> tuple[Database, str, Path]:
    settings = Settings(
        data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None, workers=1, worker_poll_seconds=0.1
    )
    settings.data_dir.mkdir(parents=True)
    db = Database(settings.resolved_database_url)
    db.create_all()
    song = add_song(db)
    job, _ = store.find_or_create(db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60)
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(settings.model_dump_json())
    return db, job.id, settings_file


def test_a_worker_whose_server_died_during_its_start_exits_and_claims_nothing(tmp_path: Path) -> None:
    db, job_id, settings_file = _queued_job(tmp_path)
    stderr = tmp_path / "worker.log"
    parent = subprocess.run(
        [sys.executable, "-c", _PARENT, WORKER_MODULE, str(settings_file), str(stderr)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    worker = psutil.Process(int(parent.stdout.strip()))
    try:
        worker.wait(timeout=120)  # a gross hang only: it normally exits within its start-up
    except psutil.TimeoutExpired:
        worker.kill()
        raise AssertionError(f"the orphaned worker kept running:\n{stderr.read_text()}") from None
    assert "is gone; exiting" in stderr.read_text()
    with db.read() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert (job.state, job.lease_owner, job.attempts) == ("queued", None, 0)
    db.dispose()
