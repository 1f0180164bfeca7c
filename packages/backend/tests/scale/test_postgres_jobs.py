"""Job transitions on PostgreSQL: claims never overlap, concurrent writers never collide on seq."""

from __future__ import annotations

import threading
import time

from riffroom.jobs import lost_messages, store
from riffroom.storage.db import Database
from riffroom.storage.models import Job, JobEvent

from tests.storage.rows import add_song


def _db(url: str) -> Database:
    db = Database(url)
    db.migrate()
    return db


def test_concurrent_claims_lease_each_job_once(postgres_url: str) -> None:
    db = _db(postgres_url)
    jobs = []
    for i in range(30):
        song = add_song(db, f"{i:064x}")
        job, _ = store.find_or_create(
            db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60
        )
        jobs.append(job.id)
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        while (job := store.claim_next(db, f"w{n}", 30.0)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(jobs)
    # claim by id (what a Dramatiq delivery does) refuses a job that is already leased
    assert store.claim(db, jobs[0], "late", 30.0) is None
    db.dispose()


def test_concurrent_writers_to_one_job_get_distinct_seqs(postgres_url: str) -> None:
    db = _db(postgres_url)
    song = add_song(db, "f" * 64)
    job, _ = store.find_or_create(db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60)
    assert store.claim(db, job.id, "w1", 30.0) is not None

    def progress() -> None:
        for i in range(40):
            store.report_progress(db, job.id, "w1", progress=i / 40, stage="separating", eta=1.0)

    threads = [threading.Thread(target=progress) for _ in range(4)]
    for t in threads:
        t.start()
    store.request_cancel(db, job.id)
    for t in threads:
        t.join()
    with db.read() as s:
        seqs = [e.seq for e in s.query(JobEvent).filter(JobEvent.job_id == job.id)]
        final = s.get(Job, job.id)
    assert final is not None and len(seqs) == len(set(seqs)) == final.seq
    db.dispose()


def test_find_or_create_from_many_threads_makes_one_job(postgres_url: str) -> None:
    db = _db(postgres_url)
    song = add_song(db, "e" * 64)
    ids: list[str] = []

    def one() -> None:
        job, _ = store.find_or_create(
            db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60
        )
        ids.append(job.id)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    db.dispose()


def test_stale_queued_job_is_taken_for_resending_once_per_period(postgres_url: str) -> None:
    db = _db(postgres_url)
    song = add_song(db, "d" * 64)
    job, _ = store.find_or_create(db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60)
    cutoff = time.time() - 60.0
    assert lost_messages.queued_before(db, cutoff) == []
    assert not db.truncate_wal(), "PostgreSQL has no SQLite WAL to cut"
    with db.write() as s:
        s.get(Job, job.id).updated_at -= 120  # type: ignore[union-attr]
    assert lost_messages.queued_before(db, cutoff) == [job.id]
    assert lost_messages.take(db, job.id, cutoff)
    assert not lost_messages.take(db, job.id, cutoff), "another node taking it now finds it touched"
    assert lost_messages.queued_before(db, cutoff) == []
    db.dispose()
