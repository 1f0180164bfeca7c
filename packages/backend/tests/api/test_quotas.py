"""Quotas per user against a real server: songs, bytes, active separations -> 429 with a clear message."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from riffroom.storage.stems import StemCache

from tests.api.accounts import add_user, login
from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import salted_copy
from tests.jobs import faulty_workers
from tests.jobs.dbpeek import query


def test_song_and_job_quotas(tmp_path: Path, short_mp3: Path) -> None:
    with run_server(
        tmp_path / "srv", workers=1, launcher=faulty_workers.launcher("hang"), quota_songs=2, quota_active_jobs=1
    ) as srv:
        with srv.client() as c:
            first, second = (upload(c, salted_copy(short_mp3, tmp_path, bytes([i]))).json() for i in (1, 2))
            assert upload(c, short_mp3.with_name(short_mp3.name)).status_code == 429  # a third song
            r = upload(c, salted_copy(short_mp3, tmp_path, b"\x03"))
            assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded"
            assert "2 songs" in r.json()["error"]["message"]
            assert upload(c, salted_copy(short_mp3, tmp_path, b"\x01")).status_code == 200  # content it has: no quota
            assert c.post(f"/api/songs/{first['id']}/separations", json={"engine": "dsp"}).status_code == 202
            again = c.post(f"/api/songs/{first['id']}/separations", json={"engine": "dsp"})
            assert again.status_code == 202  # joining the running job costs nothing
            r = c.post(f"/api/songs/{second['id']}/separations", json={"engine": "dsp"})
            assert r.status_code == 429 and "queued or running" in r.json()["error"]["message"]
            assert c.delete(f"/api/songs/{first['id']}").status_code == 204  # cancels its job, frees both
            assert upload(c, salted_copy(short_mp3, tmp_path, b"\x04")).status_code == 201


def test_byte_quota_is_per_user(tmp_path: Path, short_mp3: Path) -> None:
    size = short_mp3.stat().st_size
    with run_server(tmp_path / "srv", workers=1, auth="required", quota_bytes=size * 2 + 100) as srv:
        add_user(srv, "ana")
        add_user(srv, "bob")
        with closing(login(srv, "ana")) as ana, closing(login(srv, "bob")) as bob:
            for i in (1, 2):
                assert upload(ana, salted_copy(short_mp3, tmp_path, bytes([i]))).status_code == 201
            r = upload(ana, salted_copy(short_mp3, tmp_path, b"\x03"))
            assert r.status_code == 429 and "MB per account" in r.json()["error"]["message"]
            assert upload(bob, salted_copy(short_mp3, tmp_path, b"\x03")).status_code == 201  # bob has his own


def test_recomputing_evicted_stems_counts_against_the_job_quota(tmp_path: Path, short_mp3: Path) -> None:
    """GET stems and peaks may queue a recompute; it takes quota like POST separations does."""
    root = tmp_path / "srv"
    with run_server(root, workers=1, quota_active_jobs=1) as srv, srv.client() as c:
        evicted = upload(c, salted_copy(short_mp3, tmp_path, b"\x05")).json()
        job = c.post(f"/api/songs/{evicted['id']}/separations", json={"engine": "dsp"}).json()
        assert wait_job(c, job["id"])["state"] == "done"
    cache = StemCache(root / "cache", 0)
    key = query(srv.data_dir, "SELECT json_extract(result, '$.cache_key') FROM jobs WHERE id=?", job["id"])[0][0]
    cache.unpin(key)  # just published: pinned a while against eviction
    assert cache.evict() == [key]
    with (
        run_server(
            root, workers=1, launcher=faulty_workers.launcher("hang"), quota_active_jobs=1, cancel_grace_seconds=1
        ) as srv,
        srv.client() as c,
    ):
        other = upload(c, salted_copy(short_mp3, tmp_path, b"\x06")).json()
        busy = c.post(f"/api/songs/{other['id']}/separations", json={"engine": "dsp"}).json()  # never finishes
        for path, params in (("stems/vocals", {}), ("peaks", {"stem": "vocals"})):
            r = c.get(f"/api/songs/{evicted['id']}/{path}", params=params)
            assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded", r.text
            assert "queued or running" in r.json()["error"]["message"]
        assert c.get(f"/api/songs/{evicted['id']}").json()["job"]["id"] == job["id"], "no recompute was queued"
        c.post(f"/api/jobs/{busy['id']}/cancel")
        assert wait_job(c, busy["id"], timeout=60)["state"] == "cancelled"
        r = c.get(f"/api/songs/{evicted['id']}/stems/vocals")  # room again: the recompute is queued
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready", r.text
        assert r.json()["error"]["job_id"] != job["id"]
