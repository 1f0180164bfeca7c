"""WebSocket clients behind a bad network (ws_proxy.FaultyProxy: every chunk delayed, connections
reset and stalled at random moments) still get each job's final event exactly once, by resuming
with the protocol's replay. bench/chaos runs the same with more faults and worker kills."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.api.harness import run_server, upload, wait_job
from tests.fixtures.songs import synth_song, write_wav
from tests.reliability.chaos import salted
from tests.reliability.follower import Follower
from tests.reliability.ws_proxy import FaultyProxy


def test_proxy_delays_and_resets(tmp_path: Path) -> None:
    """The proxy itself: bytes arrive late, and a drop resets both sides."""
    echo = socket.create_server(("127.0.0.1", 0))
    port = echo.getsockname()[1]
    with FaultyProxy(port, seed=3, faults=1, gap_seconds=(0.6, 0.6), drop_share=1.0, latency_ms=(50, 50)) as proxy:
        client = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        upstream, _ = echo.accept()
        started = time.monotonic()
        client.sendall(b"hello")
        upstream.settimeout(5)
        assert upstream.recv(16) == b"hello"
        assert time.monotonic() - started >= 0.045
        assert proxy.wait_faults(timeout=5)
        client.settimeout(5)
        try:
            assert client.recv(16) == b""
        except ConnectionResetError:
            pass
        assert proxy.counts["drops"] == 1 and proxy.counts["connections"] == 1
        client.close()
        upstream.close()
    echo.close()


def test_followers_behind_faulty_network_get_each_final_once(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "song.wav", synth_song(4.0, seed=5).mixture)
    with (
        run_server(tmp_path / "srv", workers=2, dsp_chunk_seconds=1.0, progress_min_interval_seconds=0.05) as srv,
        FaultyProxy(srv.port, seed=7, faults=6, gap_seconds=(0.2, 0.6), stall_seconds=(0.3, 1.5)) as proxy,
        Follower(lambda: proxy.ws_url) as first,
        Follower(lambda: proxy.ws_url) as second,
        srv.client() as c,
    ):
        jobs = []
        for i in range(2):
            song_id = upload(c, salted(song, tmp_path, f"p{i}")).json()["id"]
            job_id = c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"}).json()["id"]
            first.follow(job_id)
            second.follow(job_id)
            jobs.append(job_id)
        assert proxy.wait_faults(timeout=60), proxy.counts
        for job_id in jobs:
            assert wait_job(c, job_id, timeout=120)["state"] == "done"
        for follower in (first, second):
            assert follower.wait_finals(jobs, timeout=30), (follower.finals, proxy.counts)
            assert all(follower.finals[j] == 1 for j in jobs), follower.finals
            assert follower.seq_went_back == 0
            assert all(follower.final_job[j]["type"] in ("done", "snapshot") for j in jobs)
        assert proxy.counts["drops"] + proxy.counts["stalls"] == 6
        assert proxy.counts["chunks delayed"] > 0
        assert first.reconnects + second.reconnects >= 1, proxy.counts
