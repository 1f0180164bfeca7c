"""Separation results over HTTP: stems with Range and ETag, peaks computed once, custom mixes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.api.harness import ServerProcess, upload, wait_job


@pytest.fixture(scope="module")
def separated(server: ServerProcess, short_mp3: Path) -> dict[str, Any]:
    with server.client() as c:
        song = upload(c, short_mp3).json()
        r = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
        assert r.status_code == 202, r.text
        job = r.json()
        assert set(job) >= {"id", "song_id", "state", "progress", "stage", "eta_seconds", "error"}
        assert wait_job(c, job["id"])["state"] == "done"
        return c.get(f"/api/songs/{song['id']}").json()  # type: ignore[no-any-return]


def test_song_lists_its_stems_once_separated(separated: dict[str, Any]) -> None:
    assert sorted(separated["stems"]) == ["bass", "drums", "other", "vocals"]
    assert separated["job"]["state"] == "done" and separated["job"]["progress"] == 1.0


def test_stem_download_supports_range_and_etag(server: ServerProcess, separated: dict[str, Any]) -> None:
    url = f"/api/songs/{separated['id']}/stems/vocals"
    with server.client() as c:
        full = c.get(url)
        assert full.status_code == 200
        assert full.headers["content-type"] == "audio/wav"
        assert full.headers["accept-ranges"] == "bytes"
        assert "attachment" in full.headers["content-disposition"]
        assert full.headers["x-content-type-options"] == "nosniff"
        data, rate = sf.read(io.BytesIO(full.content), dtype="float32")
        assert rate == 44100 and data.shape[1] == 2 and abs(len(data) / rate - separated["duration"]) < 0.2
        part = c.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == full.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
        etag = full.headers["etag"]
        assert c.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert c.get(f"/api/songs/{separated['id']}/stems/guitar").status_code == 404


@pytest.mark.parametrize("fmt,magic", [("flac", b"fLaC"), ("mp3", None), ("opus", b"OggS")])
def test_stem_in_other_formats(server: ServerProcess, separated: dict[str, Any], fmt: str, magic: bytes | None) -> None:
    with server.client() as c:
        r = c.get(f"/api/songs/{separated['id']}/stems/drums", params={"format": fmt})
        assert r.status_code == 200, r.text
        if magic:
            assert r.content.startswith(magic)
        again = c.get(
            f"/api/songs/{separated['id']}/stems/drums", params={"format": fmt}, headers={"Range": "bytes=0-9"}
        )
        assert again.status_code == 206 and again.content == r.content[:10]
        assert c.get(f"/api/songs/{separated['id']}/stems/drums", params={"format": "exe"}).status_code == 422


def test_peaks_are_computed_once_and_cached(server: ServerProcess, separated: dict[str, Any]) -> None:
    with server.client() as c:
        r = c.get(f"/api/songs/{separated['id']}/peaks", params={"stem": "bass", "points": 200})
        assert r.status_code == 200, r.text
        peaks = r.json()
        assert peaks["points"] == 200 and len(peaks["min"]) == len(peaks["max"]) == 200
        assert all(lo <= hi for lo, hi in zip(peaks["min"], peaks["max"], strict=True))
        assert max(peaks["max"]) > 0.01
        cached = list((server.data_dir / "derived").rglob("bass.peaks-200.json"))
        assert len(cached) == 1
        mtime = cached[0].stat().st_mtime_ns
        assert c.get(f"/api/songs/{separated['id']}/peaks", params={"stem": "bass", "points": 200}).json() == peaks
        assert cached[0].stat().st_mtime_ns == mtime


def test_mix_renders_the_song_minus_a_stem(server: ServerProcess, separated: dict[str, Any]) -> None:
    sid = separated["id"]
    with server.client() as c:
        minus = c.post(f"/api/songs/{sid}/mixes", json={"gains": {"vocals": None}, "format": "wav"})
        assert minus.status_code == 200, minus.text
        assert "attachment" in minus.headers["content-disposition"]
        mix, _ = sf.read(io.BytesIO(minus.content), dtype="float32")
        stems = {
            n: sf.read(io.BytesIO(c.get(f"/api/songs/{sid}/stems/{n}").content), dtype="float32")[0]
            for n in ("drums", "bass", "other")
        }
        expected = sum(stems.values())
        assert np.allclose(mix, expected, atol=1e-4)
        quieter = c.post(f"/api/songs/{sid}/mixes", json={"gains": {"drums": -6.0}, "format": "flac"})
        assert quieter.status_code == 200 and quieter.content.startswith(b"fLaC")
        bad = c.post(f"/api/songs/{sid}/mixes", json={"gains": {"../etc": 0}})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_unseparated_song_has_no_stems(server: ServerProcess, songs_dir: Path) -> None:
    from tests.api.songfiles import make_song

    with server.client() as c:
        song = upload(c, make_song(songs_dir, 2.0, "wav", seed=11)).json()
        r = c.get(f"/api/songs/{song['id']}/stems/vocals")
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_stems"
        bad = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp", "stems": ["guitar"]})
        assert bad.status_code == 422 and "guitar" in bad.json()["error"]["message"]
