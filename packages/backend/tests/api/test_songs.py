"""Songs over HTTP against a real server: upload, dedupe by content, lookup, rename, delete."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.api.harness import ServerProcess, upload


def test_upload_stores_song_and_reupload_returns_existing(server: ServerProcess, short_mp3: Path) -> None:
    with server.client() as c:
        first = upload(c, short_mp3, name="My Song.mp3")
        assert first.status_code == 201, first.text
        song = first.json()
        assert song["sha256"] == hashlib.sha256(short_mp3.read_bytes()).hexdigest()
        assert song["name"] == "My Song"
        assert song["format"] == "mp3" and song["sample_rate"] == 44100 and song["channels"] == 2
        assert 5.5 < song["duration"] < 6.6
        assert song["stems"] == [] and song["job"] is None
        again = upload(c, short_mp3, name="other name.mp3")
        assert again.status_code == 200
        assert again.json()["id"] == song["id"]
        # Stored under a generated, content-addressed name: the client's filename never reaches disk.
        blobs = [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]
        assert [p.name for p in blobs] == [song["sha256"]]


def test_by_hash_get_list_rename_delete(server: ServerProcess, songs_dir: Path) -> None:
    from tests.api.songfiles import make_song

    path = make_song(songs_dir, 3.0, "flac", seed=7)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with server.client() as c:
        assert c.get(f"/api/songs/by-hash/{sha}").status_code == 404
        song = upload(c, path).json()
        assert c.get(f"/api/songs/by-hash/{sha.upper()}").json()["id"] == song["id"]
        assert c.get(f"/api/songs/{song['id']}").json()["format"] == "flac"
        assert song["id"] in [s["id"] for s in c.get("/api/songs").json()["songs"]]
        renamed = c.patch(f"/api/songs/{song['id']}", json={"name": "Practice take"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Practice take"
        blob = server.data_dir / "blobs" / "songs" / sha[:2] / sha
        assert blob.is_file()
        assert c.delete(f"/api/songs/{song['id']}").status_code == 204
        assert c.get(f"/api/songs/{song['id']}").status_code == 404
        assert not blob.exists(), "the blob is collected once nothing references it"
        assert c.get(f"/api/songs/by-hash/{sha}").status_code == 404


def test_separation_names_are_checked_by_the_api_and_the_job_keeps_the_request(
    server: ServerProcess, songs_dir: Path
) -> None:
    """The API checks names only (no weights are looked for there); the worker says what ran."""
    from riffroom.separation.engines import DSP_MODEL

    from tests.api.harness import wait_job
    from tests.api.songfiles import make_song

    with server.client() as c:
        song = upload(c, make_song(songs_dir, 2.0, "wav", seed=12)).json()
        url = f"/api/songs/{song['id']}/separations"
        for body, says in (
            ({"engine": "auto", "model": "nope"}, "unknown model 'nope'"),
            ({"engine": "demucs", "model": "htdemucs", "stems": ["guitar"]}, "htdemucs has no guitar stem"),
            ({"engine": "dsp", "stems": ["piano"]}, "has no piano stem"),
        ):
            r = c.post(url, json=body)
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", r.text
            assert says in r.json()["error"]["message"]
        assert c.post(url, json={"engine": "gpu"}).status_code == 422
        job = c.post(url, json={"engine": "dsp", "stems": ["vocals", "drums", "vocals"]}).json()
        assert (job["engine"], job["model"], job["stems"], job["engine_used"]) == (
            "dsp",
            DSP_MODEL,
            ["drums", "vocals"],
            None,
        )
        done = wait_job(c, job["id"])
        assert (done["state"], done["engine_used"], done["model_used"]) == ("done", "dsp", DSP_MODEL), done
        assert sorted(c.get(f"/api/songs/{song['id']}").json()["stems"]) == ["drums", "vocals"]


def test_errors_are_json_with_code_and_message(server: ServerProcess) -> None:
    with server.client() as c:
        for method, url, kw in [
            ("GET", "/api/songs/" + "0" * 32, {}),
            ("GET", "/api/jobs/" + "f" * 32, {}),
            ("GET", "/api/songs/by-hash/nothex", {}),
            ("PATCH", "/api/songs/" + "0" * 32, {"json": {"name": ""}}),
            ("POST", "/api/songs", {"content": b"x", "headers": {"content-type": "text/plain"}}),
            ("POST", "/api/songs", {"files": {"other": ("a.mp3", b"ID3")}}),
        ]:
            r = c.request(method, url, **kw)
            assert 400 <= r.status_code < 500, (url, r.status_code)
            body = r.json()
            assert set(body["error"]) >= {"code", "message"}, body
            assert body["error"]["message"]


def test_openapi_schema_is_published(server: ServerProcess) -> None:
    with server.client() as c:
        spec = c.get("/openapi.json").json()
    assert {
        "/api/songs",
        "/api/songs/{song_id}/separations",
        "/api/jobs/{job_id}/cancel",
        "/api/songs/{song_id}/stems/{stem}",
        "/health/ready",
    } <= set(spec["paths"])
    assert "JobOut" in spec["components"]["schemas"]


def test_health_live_and_ready(server: ServerProcess) -> None:
    with server.client() as c:
        assert c.get("/health/live").json() == {"status": "ok"}
        ready = c.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["database"] == "ok" and checks["workers"]["alive"] == 1


def test_a_request_naming_no_engine_gets_the_servers_default_engine(tmp_path: Path, songs_dir: Path) -> None:
    """The web app asks for no engine: the operator's `default_engine` decides, not a hard-coded `auto`."""
    from tests.api.harness import run_server, wait_job
    from tests.api.songfiles import make_song

    with run_server(tmp_path / "srv", default_engine="dsp") as srv, srv.client() as c:
        song = upload(c, make_song(songs_dir, 2.0, "wav", seed=13)).json()
        job = c.post(f"/api/songs/{song['id']}/separations", json={}).json()
        assert job["engine"] == "dsp", job
        assert wait_job(c, job["id"])["engine_used"] == "dsp"
        explicit = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "auto"}).json()
        assert explicit["engine"] == "auto" and explicit["id"] != job["id"]
