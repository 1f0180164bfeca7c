"""`auto` is resolved by the worker that runs the job, with that worker's weights, and the job says
what ran. A real API node that has no model weights, and real `riffroom worker` hosts on real
Redis (sharing the node's SQLite database and data dir): one with a local model directory
(a small, randomly initialised HTDemucs), one without.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from riffroom.separation.engines import DSP_MODEL

from tests import services
from tests.api.harness import ServerProcess, _die_with_parent, upload, wait_job
from tests.api.songfiles import salted_copy

SMALL_HTDEMUCS = {"channels": 8, "bottom_channels": 0, "t_layers": 1, "segment": Fraction(39, 5)}


class WorkerHost(ServerProcess):
    """`riffroom worker --processes 1` on the API node's data dir, with settings of its own."""

    def __init__(self, root: Path, name: str, **settings: Any) -> None:
        super().__init__(root, workers=1, **settings)
        self.log_path = root / f"{name}.log"

    def start(self, timeout: float = 60.0) -> WorkerHost:
        cmd = [sys.executable, "-m", "riffroom.cli", "worker", "--processes", "1", "--data-dir", str(self.data_dir)]
        self.proc = subprocess.Popen(
            cmd, env=self.env(), stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            text = self.log()
            if re.search(r"worker host [0-9a-f]{8}", text) and "ready (pid" in text:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker did not come up:\n{self.log()}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The API node: Redis queue, and a model directory with nothing in it."""
    if services.redis_binary() is None:
        why = "redis-server is not installed (run WITH_TEST_SERVICES=1 scripts/setup.sh)"
        if os.environ.get("CI"):  # CI installs it: a skip there would hide a broken setup
            pytest.fail(why)
        pytest.skip(why)
    root = tmp_path_factory.mktemp("engine-resolution")
    (root / "no-models").mkdir()
    with services.redis_server(root / "redis") as redis_url:
        srv = ServerProcess(
            root,
            workers=0,
            queue_url=redis_url,
            queue_name=f"jobs-{uuid.uuid4().hex[:8]}",
            model_dir=root / "no-models",
            worker_presence_seconds=0.5,
        )
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


@contextmanager
def worker_host(api: ServerProcess, name: str, model_dir: Path) -> Iterator[WorkerHost]:
    """A worker host on the API node's queue; stopped on exit, so the next test's host is the only one."""
    settings = {k: api.settings[k] for k in ("queue_url", "queue_name", "worker_presence_seconds")}
    host = WorkerHost(api.root, name, **settings, model_dir=model_dir).start()
    try:
        yield host
    finally:
        host.stop()


def _new_song(api: ServerProcess, short_mp3: Path, tmp_path: Path, salt: bytes) -> str:
    with api.client() as c:
        r = upload(c, salted_copy(short_mp3, tmp_path, salt))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_auto_runs_demucs_on_a_worker_with_weights_the_api_node_lacks(
    api: ServerProcess, short_mp3: Path, tmp_path: Path
) -> None:
    from riffroom.separation.engines.model_dir import random_htdemucs, save_model

    models = tmp_path / "models"
    save_model(random_htdemucs(**SMALL_HTDEMUCS), "htdemucs", models)
    song_id = _new_song(api, short_mp3, tmp_path, b"weights")
    with worker_host(api, "worker-with-weights", models), api.client() as c:
        r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "auto"})
        assert r.status_code == 202, r.text
        asked = r.json()
        assert (asked["engine"], asked["model"]) == ("auto", "htdemucs"), "stored as asked, not resolved here"
        joined = c.post(f"/api/songs/{song_id}/separations", json={"engine": "auto", "model": "htdemucs"})
        assert joined.json()["id"] == asked["id"], "the same request joins the job (or its finished result)"
        done = wait_job(c, asked["id"], timeout=180)
        assert done["state"] == "done", done
        assert (done["engine"], done["engine_used"], done["model_used"]) == ("auto", "demucs", "htdemucs")
        song = c.get(f"/api/songs/{song_id}").json()
        assert song["job"]["id"] == asked["id"] and song["job"]["engine_used"] == "demucs"
        assert sorted(song["stems"]) == ["bass", "drums", "other", "vocals"]
        assert c.get(f"/api/songs/{song_id}/stems/vocals").status_code == 200
        again = c.post(f"/api/songs/{song_id}/separations", json={"engine": "auto"})
        assert again.status_code == 200 and again.json()["id"] == asked["id"], "a finished request answers at once"
        # Named outright, demucs is accepted by a node without weights: the worker has them.
        explicit = c.post(f"/api/songs/{song_id}/separations", json={"engine": "demucs"})
        assert explicit.status_code == 202 and explicit.json()["id"] != asked["id"], explicit.text
        ran = wait_job(c, explicit.json()["id"], timeout=180)
        assert (ran["state"], ran["engine"], ran["engine_used"]) == ("done", "demucs", "demucs"), ran


def test_auto_falls_back_to_spleeter_on_a_worker_without_weights_and_demucs_fails_there(
    api: ServerProcess, short_mp3: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    song_id = _new_song(api, short_mp3, tmp_path, b"no-weights")
    with worker_host(api, "worker-without-weights", tmp_path / "empty"), api.client() as c:
        r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "auto"})
        assert r.status_code == 202, r.text
        done = wait_job(c, r.json()["id"], timeout=120)
        assert (done["state"], done["engine"], done["engine_used"], done["model_used"]) == (
            "done",
            "auto",
            "spleeter",
            f"4stems-v1+{DSP_MODEL}",
        ), done
        assert c.get(f"/api/songs/{song_id}").json()["job"]["engine_used"] == "spleeter"
        r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "demucs"})
        assert r.status_code == 202, r.text
        failed = wait_job(c, r.json()["id"], timeout=120)
        assert failed["state"] == "failed" and failed["error_code"] == "model_unavailable", failed
        assert "weights for htdemucs are not present" in failed["error"]
        song = c.get(f"/api/songs/{song_id}").json()
        assert song["job"]["id"] == failed["id"] and song["job"]["engine_used"] is None
        assert sorted(song["stems"]) == ["bass", "drums", "other", "vocals"], "the spleeter stems stay served"
        assert song["stems_job"]["id"] == done["id"] and song["stems_job"]["engine_used"] == "spleeter"
