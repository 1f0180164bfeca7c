"""Play while it separates: `ready_seconds` and sample-accurate ranges of a running job's stems.

A real server with one worker runs the dsp engine in small chunks on a long song, so each job
can be watched mid-way: what is ready only grows and ends at the duration, ranges read while the
job runs are the very samples of the finished stems, ranges past the frontier are refused, and a
cancelled job leaves no partial data behind.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.api.harness import ServerProcess, run_server, upload, wait_job, wait_until
from tests.api.songfiles import make_song, salted_copy
from tests.api.wsclient import collect_until_final, recv_json, ws_connect
from tests.jobs.dbpeek import query

DSP = {"engine": "dsp"}
RATE = 44100


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(
        tmp_path_factory.mktemp("progressive"),
        workers=1,
        dsp_chunk_seconds=2.0,
        partial_segment_seconds=1.5,
        progress_min_interval_seconds=0.05,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def long_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that, in 2 s chunks, the dsp engine needs several seconds: a job is seen mid-way."""
    return make_song(tmp_path_factory.mktemp("progressive-songs"), 180.0, "mp3", seed=5)


@pytest.fixture(scope="module")
def short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_song(tmp_path_factory.mktemp("progressive-short"), 20.0, "mp3", seed=7)


def _new_song(srv: ServerProcess, song: Path, tmp_path: Path, salt: bytes) -> dict[str, Any]:
    with srv.client() as c:
        r = upload(c, salted_copy(song, tmp_path, salt))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _start(srv: ServerProcess, song_id: str) -> dict[str, Any]:
    with srv.client() as c:
        r = c.post(f"/api/songs/{song_id}/separations", json=DSP)
    assert r.status_code == 202, r.text
    return dict(r.json())


def _samples(body: bytes) -> np.ndarray:
    data, rate = sf.read(io.BytesIO(body), dtype="float32", always_2d=True)
    assert rate == RATE
    return np.asarray(data)


def _range(c: Any, song_id: str, stem: str, start: float, end: float, fmt: str = "wav") -> Any:
    return c.get(f"/api/songs/{song_id}/stems/{stem}", params={"start": start, "end": end, "format": fmt})


class _Events(threading.Thread):
    """Every WebSocket event of one job, gathered while the test does other things."""

    def __init__(self, srv: ServerProcess, job_id: str) -> None:
        super().__init__(daemon=True)
        self.srv, self.job_id = srv, job_id
        self.events: list[dict[str, Any]] = []
        self.subscribed = threading.Event()

    def run(self) -> None:
        with ws_connect(self.srv.ws_url) as ws:
            ws.send(json.dumps({"type": "subscribe", "jobs": [self.job_id]}))
            self.events.append(recv_json(ws))
            self.subscribed.set()
            self.events.extend(collect_until_final(ws, self.job_id, timeout=180))


def test_ranges_read_while_it_runs_are_the_finished_stems_bit_for_bit(
    srv: ServerProcess, long_song: Path, tmp_path: Path
) -> None:
    song = _new_song(srv, long_song, tmp_path, b"ranges")
    with srv.client() as c:
        job = _start(srv, song["id"])
        events = _Events(srv, job["id"])
        events.start()
        assert events.subscribed.wait(10)
        seen: list[float] = []
        reads: list[tuple[str, float, float, str, bytes]] = []
        refused = None
        while (state := c.get(f"/api/jobs/{job['id']}").json())["state"] in ("queued", "running"):
            seen.append(state["ready_seconds"])
            ready = state["ready_seconds"]
            if state["state"] == "running" and 3.0 < ready < 150.0:
                start, end = round(ready / 3, 5), round(ready - 0.3, 5)
                r = _range(c, song["id"], "vocals", start, end, fmt="flac" if len(reads) % 2 else "wav")
                if r.status_code == 200:  # 409 only if the job ended between the two requests
                    assert r.headers["cache-control"] == "no-store"
                    assert float(r.headers["x-ready-seconds"]) >= end
                    fmt = "flac" if len(reads) % 2 else "wav"
                    reads.append(("vocals", start, end, fmt, r.content))
                if refused is None:
                    far = _range(c, song["id"], "drums", 0.0, 179.0)
                    if far.status_code == 409:
                        refused = far.json()["error"]
            time.sleep(0.1)
        assert state["state"] == "done", state
        events.join(30)
        assert len(reads) >= 3, f"the job was never caught mid-way with something ready ({seen})"
        assert refused is not None and refused["code"] == "not_ready"
        assert refused["job_id"] == job["id"] and 0 < refused["ready_seconds"] < 179.0

        whole = c.get(f"/api/songs/{song['id']}/stems/vocals")  # unchanged without start/end
        assert whole.status_code == 200 and "x-ready-seconds" not in whole.headers
        finished = _samples(whole.content)
        duration = finished.shape[0] / RATE
        for stem, start, end, fmt, body in reads:
            a, b = int(np.floor(start * RATE)), int(np.floor(end * RATE))
            got = _samples(body)
            assert got.shape[0] == b - a
            if fmt == "wav":  # float WAV: the stored samples themselves
                assert np.array_equal(got, finished[a:b])
            after = _range(c, song["id"], stem, start, end, fmt)
            assert after.status_code == 200 and after.content == body, "the same bytes before and after done"
            assert after.headers["cache-control"] != "no-store" and after.headers.get("etag")
        done = c.get(f"/api/jobs/{job['id']}").json()

    assert seen == sorted(seen), "ready_seconds went back"
    assert done["ready_seconds"] == pytest.approx(duration, abs=1e-4)
    progress = [e["ready_seconds"] for e in events.events if e["type"] == "progress"]
    assert len(set(progress)) >= 3 and progress == sorted(progress)
    final = events.events[-1]
    assert final["type"] == "done" and final["job"]["ready_seconds"] == pytest.approx(duration, abs=1e-4)


def test_bad_ranges_are_refused_with_a_clear_error(srv: ServerProcess, short_song: Path, tmp_path: Path) -> None:
    song = _new_song(srv, short_song, tmp_path, b"bad-ranges")
    job = _start(srv, song["id"])
    with srv.client() as c:
        assert wait_job(c, job["id"], timeout=180)["state"] == "done"
        for start, end in ((5.0, 5.0), (6.0, 2.0), (-1.0, 2.0), (1.0, 21.0), (30.0, 31.0)):
            r = _range(c, song["id"], "bass", start, end)
            assert r.status_code == 422, (start, end, r.text)
            assert r.json()["error"]["code"] == "invalid_request"
        assert _range(c, song["id"], "bass", 1.0, 2.0, fmt="mp3").status_code == 422
        ok = _range(c, song["id"], "bass", 1.0, 2.0)
        assert ok.status_code == 200 and _samples(ok.content).shape[0] == RATE
        assert float(ok.headers["x-ready-seconds"]) == pytest.approx(song["duration"], abs=0.1)
        tail = c.get(f"/api/songs/{song['id']}/stems/bass", params={"start": 19.5})
        assert tail.status_code == 200  # `end` defaults to the end of the song


def test_cancel_mid_job_removes_its_partial_data(srv: ServerProcess, long_song: Path, tmp_path: Path) -> None:
    song = _new_song(srv, long_song, tmp_path, b"cancel")
    job = _start(srv, song["id"])
    partial = srv.root / "cache" / "partial" / job["id"]
    with srv.client() as c:
        wait_until(lambda: c.get(f"/api/jobs/{job['id']}").json()["ready_seconds"] > 2.0, timeout=60)
        assert (partial / "frontier.json").is_file()
        assert _range(c, song["id"], "other", 0.0, 1.0).status_code == 200
        assert c.post(f"/api/jobs/{job['id']}/cancel").status_code == 202
        final = wait_job(c, job["id"], timeout=30)
        assert final["state"] == "cancelled" and final["ready_seconds"] == 0
        wait_until(lambda: not partial.exists(), timeout=10)
        gone = _range(c, song["id"], "other", 0.0, 1.0)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "no_stems"


def test_the_first_stretch_is_ready_within_a_second_of_the_claim_plus_the_decode(
    srv: ServerProcess, tmp_path: Path, songs_dir: Path
) -> None:
    """Claim (the job's `started_at`) -> decoding starts -> song decoded -> first stretch ready.

    The song is decoded whole before the first chunk (the mix statistics need all of it): at
    nice 19 on a busy 2-core machine that alone can take seconds, so it is measured apart: the
    engine is loaded before the claim, and the first chunk follows the decode at once."""
    song = _new_song(srv, make_song(songs_dir, 30.0, "mp3", seed=6), tmp_path, b"first")
    job = _start(srv, song["id"])
    events = _Events(srv, job["id"])
    events.start()
    events.join(120)
    assert events.events[-1]["type"] == "done"
    claimed = query(srv.data_dir, "SELECT started_at FROM jobs WHERE id=?", job["id"])[0][0]
    progress = [e for e in events.events if e["type"] == "progress"]
    decoding = next(e for e in progress if e["stage"] == "decoding")
    separating = next(e for e in progress if e["stage"] == "separating")
    first = next(e for e in progress if e["ready_seconds"] > 0)
    assert decoding["at"] - claimed < 1.0, (claimed, progress[:3])
    assert first["at"] - separating["at"] < 1.0, (separating, first)


def test_a_cached_song_is_all_ready_at_once(srv: ServerProcess, short_song: Path, tmp_path: Path) -> None:
    first = _new_song(srv, short_song, tmp_path, b"cached")
    with srv.client() as c:
        assert wait_job(c, _start(srv, first["id"])["id"], timeout=180)["state"] == "done"
        assert c.delete(f"/api/songs/{first['id']}").status_code == 204
        again = _new_song(srv, short_song, tmp_path, b"cached")  # same content: the stem cache has it
        began = time.monotonic()
        job = _start(srv, again["id"])
        r = wait_until(lambda: (x := _range(c, again["id"], "vocals", 0.0, 2.0)).status_code == 200 and x, timeout=10)
        assert time.monotonic() - began < 1.0
        assert float(r.headers["x-ready-seconds"]) == pytest.approx(again["duration"], abs=0.1)
        assert wait_job(c, job["id"], timeout=30)["ready_seconds"] == pytest.approx(again["duration"], abs=0.1)
