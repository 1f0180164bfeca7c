"""The song analysis over HTTP, against a real server: made by the separation job (stage
`analyzing`), kept beside the stems and shared through the content cache, recomputed when lost,
private to the song's owner, corrected by the user, and never the reason a separation fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from riffroom.analysis import ANALYSIS_VERSION
from riffroom.jobs.analysis_stage import ANALYSIS_SIDECAR

from tests.analysis.songs import SR, make_song
from tests.api.accounts import login
from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.wsclient import collect_until_final, recv_json, ws_connect
from tests.fixtures.songs import write_wav
from tests.jobs.dbpeek import query

BPM = 120.0
NOBODY = "0123456789abcdef" * 2
SIDECAR = ANALYSIS_SIDECAR
NO_CORRECTIONS = {"first_downbeat": None, "tempo_factor": 1, "time_signature": None, "chords": []}


@pytest.fixture(scope="module")
def click_song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A 4/4 song at 120 bpm (kick, snare, hats, bass, chords) and its true beat times."""
    song = make_song(BPM, 4, ["A:min", "F:maj", "C:maj", "G:maj"], 8, seed=4)
    path = write_wav(tmp_path_factory.mktemp("analysis-songs") / "click.wav", song.mixture.T, SR)
    return path, song.beats


@pytest.fixture(scope="module")
def noise_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    noise = 0.2 * np.random.default_rng(7).standard_normal((SR * 10, 2))
    return write_wav(tmp_path_factory.mktemp("analysis-noise") / "noise.wav", noise.astype(np.float32), SR)


def _separate(client: httpx.Client, path: Path, name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    song = upload(client, path, name=name).json()
    r = client.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
    assert r.status_code in (200, 202), r.text
    return song, r.json()


def _sidecar(srv: ServerProcess, sha256: str) -> Path:
    """Where the server's stem store keeps the analysis of the song with this content."""
    for manifest in (srv.root / "cache" / "objects").glob("*/manifest.json"):
        if json.loads(manifest.read_text())["sha256"] == sha256:
            return manifest.parent / SIDECAR
    raise AssertionError(f"no cache entry for {sha256}")


def _near(found: list[float], truth: np.ndarray, tol: float = 0.07) -> float:
    """Fraction of the true beats after the first bar with a found beat within `tol` seconds."""
    truth = truth[truth > 2.5]
    return float(np.mean([np.min(np.abs(np.array(found) - t)) <= tol for t in truth])) if found else 0.0


@pytest.fixture(scope="module")
def analysed(server: ServerProcess, click_song: tuple[Path, np.ndarray]) -> dict[str, Any]:
    """The click song separated and analysed, with what the client saw meanwhile."""
    with server.client() as c, ws_connect(server.ws_url) as ws:
        song, job = _separate(c, click_song[0])
        assert job["state"] in ("queued", "running")
        early = c.get(f"/api/songs/{song['id']}/analysis")
        ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
        snapshot = recv_json(ws)
        events = collect_until_final(ws, job["id"])
        analysis = c.get(f"/api/songs/{song['id']}/analysis")
    return {"song": song, "job": job, "early": early, "snapshot": snapshot, "events": events, "analysis": analysis}


def test_the_job_analyses_the_song_after_separating_it(analysed: dict[str, Any]) -> None:
    progress = [e for e in analysed["events"] if e["type"] == "progress"]
    stages = [e["stage"] for e in progress]
    assert "analyzing" in stages, stages
    assert stages.index("analyzing") > max((i for i, s in enumerate(stages) if s != "analyzing"), default=-1)
    assert all(e["progress"] >= 0.9 for e in progress if e["stage"] == "analyzing")
    fractions = [e["progress"] for e in progress]
    assert fractions == sorted(fractions), "the progress bar went backwards"
    final = analysed["events"][-1]
    assert final["type"] == "done" and final["job"]["progress"] == 1.0


def test_analysis_is_409_with_the_job_while_it_runs(analysed: dict[str, Any]) -> None:
    early = analysed["early"]
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "not_ready" and early.json()["error"]["job_id"] == analysed["job"]["id"]


def test_analysis_finds_the_beats_bars_and_tempo(analysed: dict[str, Any], click_song: tuple[Path, np.ndarray]) -> None:
    r = analysed["analysis"]
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == ANALYSIS_VERSION and body["steady_beat"] is True and body["message"] is None
    assert body["bpm"] == pytest.approx(BPM, rel=0.04)
    assert body["time_signature"] == "4/4"
    assert _near(body["beats"], click_song[1]) >= 0.9
    assert len(body["beat_positions"]) == len(body["beats"]) and set(body["downbeats"]) <= set(body["beats"])
    assert all(t1 > t0 for t0, t1 in zip(body["beats"], body["beats"][1:], strict=False))
    assert body["chords"] and body["sections"] and body["key"]
    assert body["corrections"] == NO_CORRECTIONS


def test_a_lost_analysis_is_made_again_on_demand(server: ServerProcess, analysed: dict[str, Any]) -> None:
    song, before = analysed["song"], analysed["analysis"].json()
    sidecar = _sidecar(server, song["sha256"])
    sidecar.unlink()
    with server.client() as c:
        r = c.get(f"/api/songs/{song['id']}/analysis")
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready", r.text
        job_id = r.json()["error"]["job_id"]
        assert job_id != analysed["job"]["id"]
        assert c.get(f"/api/songs/{song['id']}/analysis").json()["error"]["job_id"] == job_id  # joined, not doubled
        assert wait_job(c, job_id)["state"] == "done"
        again = c.get(f"/api/songs/{song['id']}/analysis")
        assert c.get(f"/api/songs/{song['id']}").json()["stems"]  # the stems were there all along
    assert again.status_code == 200 and again.json() == before
    assert sidecar.is_file()


def test_user_corrections_override_the_analysis_and_stay(server: ServerProcess, analysed: dict[str, Any]) -> None:
    song, original = analysed["song"], analysed["analysis"].json()
    url = f"/api/songs/{song['id']}/analysis"
    second_beat = original["beats"][1]
    corrections = {
        "first_downbeat": second_beat + 0.01,
        "tempo_factor": 2,
        "time_signature": "3/4",
        "chords": [{"start": 4.0, "end": 6.0, "label": "C#:min"}],
    }
    with server.client() as c:
        put = c.put(f"{url}/corrections", json=corrections)
        assert put.status_code == 200, put.text
        fixed = put.json()
        assert fixed["bpm"] == pytest.approx(2 * original["bpm"], rel=0.01)
        assert len(fixed["beats"]) == 2 * len(original["beats"]) - 1
        assert fixed["time_signature"] == "3/4" and {p["beat"] for p in fixed["beat_positions"]} == {1, 2, 3}
        assert second_beat in fixed["downbeats"]
        assert {"start": 4.0, "end": 6.0, "label": "C#:min"} in fixed["chords"]
        assert fixed["corrections"]["tempo_factor"] == 2 and fixed["corrections"]["time_signature"] == "3/4"
        assert fixed["key"] == original["key"] and fixed["sections"] == original["sections"]
    with server.client() as reloaded:
        assert reloaded.get(url).json() == fixed
        undone = reloaded.put(f"{url}/corrections", json=NO_CORRECTIONS)
        assert undone.status_code == 200 and undone.json() == original


@pytest.mark.parametrize(
    ("corrections", "says"),
    [
        ({"chords": [{"start": 0, "end": 1, "label": "H:maj"}]}, "'H:maj' is not a chord label"),
        ({"chords": [{"start": 0, "end": 1, "label": "C major"}]}, "is not a chord label"),
        ({"time_signature": "5/5"}, "'5/5' is not a time signature"),
        ({"tempo_factor": 3}, "tempo_factor must be 0.5, 1 or 2"),
        ({"chords": [{"start": 0, "end": 2, "label": "C:maj"}, {"start": 1, "end": 3, "label": "G:maj"}]}, "overlap"),
        ({"first_downbeat": "soon"}, "first_downbeat"),
    ],
)
def test_bad_corrections_are_422_and_change_nothing(
    server: ServerProcess, analysed: dict[str, Any], corrections: dict[str, Any], says: str
) -> None:
    url = f"/api/songs/{analysed['song']['id']}/analysis"
    with server.client() as c:
        before = c.get(url).json()
        r = c.put(f"{url}/corrections", json=corrections)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request" and says in r.json()["error"]["message"]
        assert c.get(url).json() == before


def test_a_song_without_a_steady_beat_is_still_separated(server: ServerProcess, noise_song: Path) -> None:
    with server.client() as c:
        song, job = _separate(c, noise_song)
        assert wait_job(c, job["id"])["state"] == "done"
        assert sorted(c.get(f"/api/songs/{song['id']}").json()["stems"]) == ["bass", "drums", "other", "vocals"]
        r = c.get(f"/api/songs/{song['id']}/analysis")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["steady_beat"] is False and "no steady beat" in body["message"]
    assert body["beats"] == [] and body["downbeats"] == [] and body["beat_positions"] == [] and body["bpm"] is None


def test_a_song_never_separated_has_no_analysis_yet(server: ServerProcess, noise_song: Path, tmp_path: Path) -> None:
    other = tmp_path / "never.wav"
    other.write_bytes(noise_song.read_bytes() + b"never separated")
    with server.client() as c:
        song = upload(c, other).json()
        r = c.get(f"/api/songs/{song['id']}/analysis")
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_stems"
        put = c.put(f"/api/songs/{song['id']}/analysis/corrections", json={"tempo_factor": 2})
        assert put.status_code == 404


def test_corrections_go_with_the_song(
    server: ServerProcess, click_song: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    copy = tmp_path / "doomed.wav"
    copy.write_bytes(click_song[0].read_bytes() + b"doomed")
    with server.client() as c:
        song, job = _separate(c, copy)
        assert wait_job(c, job["id"])["state"] == "done"
        assert c.put(f"/api/songs/{song['id']}/analysis/corrections", json={"tempo_factor": 0.5}).status_code == 200
        assert query(server.data_dir, "SELECT count(*) FROM analysis_corrections WHERE song_id=?", song["id"]) == [(1,)]
        assert c.delete(f"/api/songs/{song['id']}").status_code == 204
    assert query(server.data_dir, "SELECT count(*) FROM analysis_corrections WHERE song_id=?", song["id"]) == [(0,)]


@pytest.fixture(scope="module")
def ana(auth_server: ServerProcess) -> Iterator[httpx.Client]:
    with closing(login(auth_server, "ana")) as c:
        yield c


@pytest.fixture(scope="module")
def bob(auth_server: ServerProcess) -> Iterator[httpx.Client]:
    with closing(login(auth_server, "bob")) as c:
        yield c


def test_another_users_analysis_is_404_but_the_same_content_is_analysed_once(
    auth_server: ServerProcess, ana: httpx.Client, bob: httpx.Client, click_song: tuple[Path, np.ndarray]
) -> None:
    anas, job = _separate(ana, click_song[0])
    assert wait_job(ana, job["id"])["state"] == "done"
    url = f"/api/songs/{anas['id']}/analysis"
    theirs = ana.get(url).json()
    assert ana.put(f"{url}/corrections", json={"time_signature": "6/8"}).status_code == 200
    for method, path, kw in (("GET", "", {}), ("PUT", "/corrections", {"json": {"tempo_factor": 2}})):
        probe = bob.request(method, url + path, **kw)
        made_up = bob.request(method, f"/api/songs/{NOBODY}/analysis{path}", **kw)
        assert probe.status_code == 404 and probe.json() == made_up.json(), probe.text
    assert ana.get(url).json()["corrections"]["time_signature"] == "6/8"  # bob changed nothing

    sidecar = _sidecar(auth_server, anas["sha256"])
    made = sidecar.stat()
    bobs, bobs_job = _separate(bob, click_song[0])  # the same content: one cache entry underneath
    assert bobs["id"] != anas["id"]
    assert wait_job(bob, bobs_job["id"])["state"] == "done"
    mine = bob.get(f"/api/songs/{bobs['id']}/analysis")
    assert mine.status_code == 200, mine.text
    assert mine.json() == theirs  # ana's analysis, without ana's corrections
    kept = sidecar.stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (made.st_ino, made.st_mtime_ns), "the same content was analysed twice"
