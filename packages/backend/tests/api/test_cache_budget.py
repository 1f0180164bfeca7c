"""Disk budget: stems evicted by last use are recomputed on demand; health never walks the cache."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
from riffroom.api.app import collect_derived
from riffroom.storage.stems import StemCache

from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import make_song


def test_evicted_stems_are_recomputed_on_demand_and_reading_pins(tmp_path: Path, songs_dir: Path) -> None:
    with run_server(tmp_path / "srv", workers=1) as srv:
        cache = StemCache(srv.root / "cache", 10**12)
        with srv.client() as c:
            song = upload(c, make_song(songs_dir, 3.0, "wav", seed=21)).json()
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            done = wait_job(c, job["id"])
            key = _cache_key(srv.data_dir, done["id"])
            # Reading a stem pins its entry: an eviction pass now leaves it alone.
            assert c.get(f"/api/songs/{song['id']}/stems/vocals").status_code == 200
            assert c.get(f"/api/songs/{song['id']}/stems/vocals", params={"format": "flac"}).status_code == 200
            derived = srv.data_dir / "derived" / key
            assert (derived / "vocals.flac").is_file()
            cache.budget_bytes = 0
            assert key not in cache.evict()
            # Once unpinned it is the least recently used entry and goes.
            cache.unpin(key)
            assert key in cache.evict()
            assert c.get(f"/api/songs/{song['id']}").json()["stems"] == []
            # Files derived from evicted stems (transcodes, peaks, mixes) are collected too.
            assert collect_derived(SimpleNamespace(derived_dir=srv.data_dir / "derived", cache=cache)) == 1
            assert not derived.exists()
            r = c.get(f"/api/songs/{song['id']}/stems/vocals")
            assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready"
            again = wait_job(c, r.json()["error"]["job_id"])
            assert again["state"] == "done"
            assert c.get(f"/api/songs/{song['id']}/stems/vocals").status_code == 200


def _cache_key(data_dir: Path, job_id: str) -> str:
    import json

    db = sqlite3.connect(data_dir / "riffroom.db")
    try:
        return str(json.loads(db.execute("SELECT result FROM jobs WHERE id=?", (job_id,)).fetchone()[0])["cache_key"])
    finally:
        db.close()


def test_health_stays_fast_with_100000_cached_stems(tmp_path: Path) -> None:
    cache_dir = tmp_path / "srv" / "cache"
    cache = StemCache(cache_dir, 10**15)
    db = sqlite3.connect(cache_dir / "index.sqlite")
    now = time.time()
    db.executemany(
        "INSERT INTO entries(key, size, last_used) VALUES (?,?,?)",
        ((f"{i:064x}", 40_000_000, now) for i in range(25_000)),
    )  # 4 stems each
    db.commit()
    db.close()
    assert cache.count() == 25_000
    with run_server(tmp_path / "srv", workers=1) as srv:
        with httpx.Client(base_url=srv.base_url) as c:
            for path in ("/health/live", "/health/ready"):
                c.get(path)
                times = []
                for _ in range(50):
                    t = time.perf_counter()
                    assert c.get(path).status_code == 200
                    times.append(time.perf_counter() - t)
                times.sort()
                assert times[len(times) // 2] < 0.010, (path, times[len(times) // 2])
