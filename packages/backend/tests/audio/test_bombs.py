"""Decompression and duration bombs: cut at the caps with bounded memory and disk, clearly rejected."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from riffroom.audio.decode import decode
from riffroom.config import Settings
from riffroom.errors import BadInputError

from tests.api.harness import run_server, upload, wait_job
from tests.audio import bombs

CAP_SECONDS = 60.0
SPOOL_CAP = int((CAP_SECONDS + 1) * 44100 * 8)  # float32 stereo, one second of slack


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bombs")


BOMBS: dict[str, Callable[[Path], Path]] = {
    "silent_flac_3h": lambda d: bombs.silent_flac(d / "silence.flac"),
    "silent_flac_3h_no_length": lambda d: bombs.silent_flac(d / "hidden.flac", hide_length=True),
    "mp3_8kbps_30min": lambda d: bombs.low_bitrate_mp3(d / "low.mp3"),
    "wav_claims_6h": lambda d: bombs.lying_wav(d / "lying.wav"),
    "mp4_claims_a_day": lambda d: bombs.lying_mp4(d / "lying.m4a"),
}


@contextmanager
def watch(spool: Path) -> Iterator[dict[str, int]]:
    """Peak growth of this process's RSS, peak RSS of the ffmpeg it starts, peak bytes in `spool`."""
    me = psutil.Process()
    base = me.memory_info().rss
    # Only the ffmpeg the decode starts counts: between fork and exec (the sandbox sets its limits there) the
    # child is still a copy of this process, torch and all, and its shared pages would read as ffmpeg's.
    before = {c.pid for c in me.children(recursive=True)}

    def is_new_ffmpeg(child: psutil.Process) -> bool:
        return child.pid not in before and child.name().startswith(("ffmpeg", "ffprobe"))

    peaks = {"rss_growth": 0, "child_rss": 0, "spool": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                peaks["rss_growth"] = max(peaks["rss_growth"], me.memory_info().rss - base)
                kids = sum(c.memory_info().rss for c in me.children(recursive=True) if is_new_ffmpeg(c))
                peaks["child_rss"] = max(peaks["child_rss"], kids)
                peaks["spool"] = max(peaks["spool"], sum(f.stat().st_size for f in spool.iterdir()))
            except (psutil.Error, FileNotFoundError):
                pass
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_cut_at_the_cap_in_bounded_memory_and_disk(name: str, bomb_dir: Path, tmp_path: Path) -> None:
    path = BOMBS[name](bomb_dir)
    assert path.stat().st_size < 3 * 1024 * 1024
    spool = tmp_path / "spool"
    spool.mkdir()
    settings = Settings(data_dir=tmp_path / "data", max_duration_seconds=CAP_SECONDS)
    before_decode = {c.pid for c in psutil.Process().children(recursive=True)}
    started = time.monotonic()
    with watch(spool) as peaks, pytest.raises(BadInputError) as rejected:
        decode(path, settings=settings, spool_dir=spool)
    assert rejected.value.code in ("too_large", "truncated"), rejected.value
    assert any(word in str(rejected.value) for word in ("minute limit", "claims", "truncated"))
    assert time.monotonic() - started < 60
    assert peaks["spool"] <= SPOOL_CAP, f"spooled {peaks['spool']} bytes past a {SPOOL_CAP} byte cap"
    assert peaks["rss_growth"] < 150 * 1024**2, f"decoder grew by {peaks['rss_growth'] / 1e6:.0f} MB"
    assert peaks["child_rss"] < 400 * 1024**2, f"ffmpeg used {peaks['child_rss'] / 1e6:.0f} MB"
    assert list(spool.iterdir()) == []  # the spool of a rejected decode is gone
    assert [c for c in psutil.Process().children(recursive=True) if c.pid not in before_decode] == []


def test_server_rejects_bombs_with_a_clear_message(bomb_dir: Path, tmp_path: Path) -> None:
    """A header that admits the length is refused at upload (413); one that hides it fails the job."""
    at_upload = {"silent_flac_3h", "mp3_8kbps_30min", "mp4_claims_a_day"}
    with run_server(tmp_path / "srv", workers=1, max_duration_seconds=CAP_SECONDS) as srv, srv.client() as c:
        for name in sorted(BOMBS):
            r = upload(c, BOMBS[name](bomb_dir))
            if name in at_upload:
                assert r.status_code == 413, f"{name}: {r.status_code} {r.text}"
                error = r.json()["error"]
                assert error["code"] == "too_long" and "minute limit" in error["message"], error
                continue
            assert r.status_code == 201, f"{name}: {r.text}"
            job = c.post(f"/api/songs/{r.json()['id']}/separations", json={"engine": "dsp"}).json()
            final = wait_job(c, job["id"])
            assert final["state"] == "failed", final
            assert final["error_code"] in ("too_large", "truncated", "bad_input"), final
            assert any(w in final["error"] for w in ("minute limit", "truncated", "claims")), final
