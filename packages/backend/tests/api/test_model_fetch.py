"""`riffroom serve` fetches the default model's weights on first start, in the background, from a
local stand-in for the HuggingFace hub (HF_ENDPOINT on 127.0.0.1; never the real hub): jobs
meanwhile run Spleeter + dsp and say so, `GET /api/models` shows the progress, the worker runs
demucs for the next job without a restart, and a re-run with demucs keeps the old stems served
until its own are published. A closed port gives up quickly; `never` asks nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.harness import ServerProcess, free_port, upload, wait_job, wait_until
from tests.api.songfiles import make_song, salted_copy
from tests.separation.local_hub import SMALL_HTDEMUCS, LocalHub, hub_files


def _models(c: httpx.Client) -> dict[str, Any]:
    r = c.get("/api/models")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_first_start_downloads_in_the_background_and_the_next_job_runs_demucs(tmp_path: Path) -> None:
    from riffroom.separation.engines.model_dir import random_htdemucs

    with LocalHub() as hub:
        bag = [random_htdemucs(**SMALL_HTDEMUCS, seed=seed) for seed in (1, 2)]
        hub.add("adefossez/HTDemucs", hub_files("htdemucs", *bag))
        hub.gate, hub.gated = threading.Event(), "0badc0d1.safetensors"  # the second file waits for the test
        srv = ServerProcess(
            tmp_path,
            workers=1,
            fetch_models="auto",
            environ={"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DOWNLOAD_TIMEOUT": "300"},
        )
        srv.start()
        try:
            with srv.client() as c:
                status = wait_until(lambda: (m := _models(c))["fetch"]["fraction"] > 0 and m, timeout=30)
                assert status["fetch"]["state"] == "downloading" and status["fetch"]["fraction"] < 1
                assert status["auto_engine"] == "spleeter"
                assert "separations meanwhile run Spleeter + dsp" in status["fetch"]["message"]
                rows = {(m["engine"], m["model"]): m for m in status["models"]}
                assert not rows[("demucs", "htdemucs")]["available"] and rows[("spleeter", "4stems")]["available"]

                song = upload(c, make_song(tmp_path / "songs", 3.0, "wav", seed=31)).json()
                first = c.post(f"/api/songs/{song['id']}/separations", json={}).json()
                first = wait_job(c, first["id"], timeout=180)
                assert (first["state"], first["engine_used"]) == ("done", "spleeter"), first
                assert _models(c)["fetch"]["state"] == "downloading", "no job waited on the download"

                hub.gate.set()
                done = wait_until(lambda: (m := _models(c))["fetch"]["state"] != "downloading" and m, timeout=60)
                assert done["fetch"]["state"] == "done" and done["fetch"]["fraction"] == 1.0, done
                assert done["auto_engine"] == "demucs"

                # Separate again with the better engine: a new job, and the old stems stay served.
                again = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "demucs"})
                assert again.status_code == 202 and again.json()["id"] != first["id"], again.text
                shown = c.get(f"/api/songs/{song['id']}").json()
                if shown["job"]["state"] in ("queued", "running"):
                    assert shown["stems_job"]["id"] == first["id"] and shown["stems"], shown
                    assert c.get(f"/api/songs/{song['id']}/stems/vocals").status_code == 200
                rerun = wait_job(c, again.json()["id"], timeout=180)
                assert (rerun["state"], rerun["engine_used"], rerun["model_used"]) == ("done", "demucs", "htdemucs")
                shown = c.get(f"/api/songs/{song['id']}").json()
                assert shown["stems_job"]["id"] == rerun["id"] and shown["stems_job"]["engine_used"] == "demucs"
        finally:
            srv.stop()
    log = srv.log_path.read_text()
    assert "downloading htdemucs weights in the background; separations meanwhile run Spleeter + dsp" in log
    assert "htdemucs weights downloaded: the next separation runs Demucs" in log


def test_old_stems_stay_served_while_a_rerun_is_queued(tmp_path: Path, short_mp3: Path) -> None:
    """No worker takes the re-run (workers=0 after the first job), so it stays queued: the song
    keeps serving the stems of its last finished separation, and names the engine that made them."""
    root = tmp_path / "srv"
    root.mkdir()
    srv = ServerProcess(root, workers=1).start()
    try:
        with srv.client() as c:
            song = upload(c, salted_copy(short_mp3, tmp_path, b"rerun")).json()
            first = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            assert wait_job(c, first["id"])["state"] == "done"
    finally:
        srv.stop()
    srv.workers = 0
    srv.start()
    try:
        with srv.client() as c:
            r = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "spleeter"})
            assert r.status_code == 202 and r.json()["state"] == "queued", r.text
            shown = c.get(f"/api/songs/{song['id']}").json()
            assert shown["job"]["id"] == r.json()["id"] and shown["job"]["engine"] == "spleeter"
            assert shown["stems_job"]["id"] == first["id"] and shown["stems_job"]["engine_used"] == "dsp"
            assert sorted(shown["stems"]) == ["bass", "drums", "other", "vocals"]
            stem = c.get(f"/api/songs/{song['id']}/stems/drums")
            assert stem.status_code == 200 and stem.content[:4] == b"RIFF"
            bad = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "spleeter", "model": "3stems"})
            assert bad.status_code == 422 and "unknown spleeter model" in bad.json()["error"]["message"]
    finally:
        srv.stop()


def test_an_unreachable_hub_is_given_up_on_quickly_with_one_clear_line(tmp_path: Path) -> None:
    closed = free_port()
    srv = ServerProcess(
        tmp_path,
        workers=0,
        fetch_models="auto",
        environ={"HF_ENDPOINT": f"http://127.0.0.1:{closed}", "HF_HOME": str(tmp_path / "hf")},
    )
    started = time.monotonic()
    srv.start()
    try:
        with srv.client() as c:
            status = wait_until(lambda: (m := _models(c))["fetch"]["state"] != "downloading" and m, timeout=30)
            elapsed = time.monotonic() - started
    finally:
        srv.stop()
    assert status["fetch"]["state"] == "failed" and elapsed < 10, (status, elapsed)
    message = status["fetch"]["message"]
    assert "could not download htdemucs" in message and "separations run Spleeter + dsp" in message
    assert "riffroom models fetch htdemucs" in message and "RIFFROOM_MODEL_DIR" in message
    lines = [line for line in srv.log_path.read_text().splitlines() if "could not download htdemucs" in line]
    assert len(lines) == 1 and " WARNING riffroom.models: " in lines[0], lines


def test_never_asks_the_hub_nothing_and_every_test_server_defaults_to_it(tmp_path: Path) -> None:
    with LocalHub() as hub:
        srv = ServerProcess(tmp_path, workers=0, environ={"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")})
        assert srv.env()["RIFFROOM_FETCH_MODELS"] == "never"
        srv.start()
        try:
            with srv.client() as c:
                status = _models(c)
        finally:
            srv.stop()
    assert status["fetch"]["state"] == "never", status
    assert "RIFFROOM_FETCH_MODELS=never" in status["fetch"]["message"]
    assert hub.requests == [], "nothing may reach a hub when fetching is off"
