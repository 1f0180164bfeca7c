"""Fair scheduling: owners take turns, so one owner's hundred queued jobs never starve another's."""

from __future__ import annotations

from pathlib import Path

from riffroom.jobs import store
from riffroom.storage.db import Database
from riffroom.storage.models import Song

from tests.storage.rows import add_song


def _queue(db: Database, song: Song) -> str:
    job, created = store.find_or_create(
        db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60
    )
    assert created
    return job.id


def test_a_late_owner_is_served_next_not_after_the_backlog(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fair.db'}")
    db.create_all()
    ana = [_queue(db, add_song(db, f"{n:064x}", owner="ana")) for n in range(100)]
    bob = [_queue(db, add_song(db, f"{1000 + n:064x}", owner="bob")) for n in range(2)]
    order = []
    for _ in range(6):  # one worker: claim, finish, claim ...
        job = store.claim_next(db, "w1", 30)
        assert job is not None
        order.append(job.id)
        assert store.finish(db, job.id, "w1", {"cache_key": "k", "stems": []})
    assert order == [ana[0], bob[0], ana[1], bob[1], ana[2], ana[3]]


def test_owners_with_running_jobs_wait_for_idle_owners(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fair.db'}")
    db.create_all()
    ana = [_queue(db, add_song(db, f"{n:064x}", owner="ana")) for n in range(10)]
    first = store.claim_next(db, "w1", 30)
    assert first is not None and first.id == ana[0]
    bob = _queue(db, add_song(db, f"{99:064x}", owner="bob"))
    second = store.claim_next(db, "w2", 30)  # ana has one running, bob none: bob goes first
    assert second is not None and second.id == bob
    db.dispose()
