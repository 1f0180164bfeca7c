"""Isolation between users: bob probing every route and the WebSocket with ana's ids and hashes
gets exactly what a made-up id gets (404), and the shared stem cache reveals nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.accounts import login, ws_headers
from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.wsclient import recv_json, ws_connect

NOBODY = "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def ana(auth_server: ServerProcess) -> Iterator[httpx.Client]:
    with closing(login(auth_server, "ana")) as c:
        yield c


@pytest.fixture(scope="module")
def bob(auth_server: ServerProcess) -> Iterator[httpx.Client]:
    with closing(login(auth_server, "bob")) as c:
        yield c


@pytest.fixture(scope="module")
def anas_song(ana: httpx.Client, short_mp3: Path) -> dict[str, Any]:
    song = upload(ana, short_mp3, name='../../etc/"x"\r\nX-Evil: 1.mp3').json()
    job = ana.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
    assert wait_job(ana, job["id"])["state"] == "done"
    return ana.get(f"/api/songs/{song['id']}").json()  # type: ignore[no-any-return]


def _probes(song_id: str, job_id: str, sha: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/api/songs/{song_id}", {}),
        ("PATCH", f"/api/songs/{song_id}", {"json": {"name": "mine now"}}),
        ("POST", f"/api/songs/{song_id}/separations", {"json": {"engine": "dsp"}}),
        ("GET", f"/api/songs/{song_id}/stems/vocals", {}),
        ("GET", f"/api/songs/{song_id}/stems/vocals?format=mp3", {}),
        ("GET", f"/api/songs/{song_id}/peaks?stem=vocals", {}),
        ("POST", f"/api/songs/{song_id}/mixes", {"json": {"gains": {"vocals": None}}}),
        ("GET", f"/api/songs/{song_id}/analysis", {}),
        ("PUT", f"/api/songs/{song_id}/analysis/corrections", {"json": {"tempo_factor": 2}}),
        ("GET", f"/api/songs/{song_id}/practice", {}),
        ("PUT", f"/api/songs/{song_id}/practice", {"json": {"revision": 0, "state": {}}}),
        ("GET", f"/api/songs/{song_id}/practice/log", {}),
        ("GET", f"/api/songs/by-hash/{sha}", {}),
        ("GET", f"/api/jobs/{job_id}", {}),
        ("POST", f"/api/jobs/{job_id}/cancel", {}),
        ("DELETE", f"/api/songs/{song_id}", {}),
    ]


def test_other_users_ids_and_hashes_are_404_like_made_up_ones(
    bob: httpx.Client, ana: httpx.Client, anas_song: dict[str, Any]
) -> None:
    real = _probes(anas_song["id"], anas_song["job"]["id"], anas_song["sha256"])
    fake = _probes(NOBODY, NOBODY, "f" * 64)
    for (method, url, kw), (_, fake_url, _) in zip(real, fake, strict=True):
        r, made_up = bob.request(method, url, **kw), bob.request(method, fake_url, **kw)
        assert r.status_code == 404, f"{method} {url}: {r.status_code} {r.text}"
        assert r.json() == made_up.json(), f"{method} {url} answers unlike a made-up id"
    assert bob.get("/api/songs").json()["songs"] == []
    after = ana.get(f"/api/songs/{anas_song['id']}").json()  # untouched by bob's attempts
    assert after["name"] == anas_song["name"] and after["job"]["state"] == "done"


def test_websocket_subscriptions_are_per_user(
    auth_server: ServerProcess, bob: httpx.Client, anas_song: dict[str, Any]
) -> None:
    job_id = anas_song["job"]["id"]
    with ws_connect(auth_server.ws_url, additional_headers=ws_headers(bob)) as ws:
        for message in ({"type": "subscribe", "jobs": [job_id]}, {"type": "resume", "after": {job_id: 0}}):
            ws.send(json.dumps(message))
            reply = recv_json(ws)
            assert reply["type"] == "error" and reply["code"] == "not_found", reply


def test_no_event_of_a_running_job_reaches_another_user(
    auth_server: ServerProcess, ana: httpx.Client, bob: httpx.Client, short_mp3: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "fresh.mp3"
    copy.write_bytes(short_mp3.read_bytes() + b"fresh")  # new content: a real run with progress events
    song = upload(ana, copy).json()
    job = ana.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
    seen: list[dict[str, Any]] = []
    with ws_connect(auth_server.ws_url, additional_headers=ws_headers(bob)) as ws:
        for _ in range(20):  # keep asking while the job runs
            ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
            seen.append(recv_json(ws))
        assert wait_job(ana, job["id"])["state"] == "done"
        ws.send(json.dumps({"type": "ping"}))
        while (msg := recv_json(ws))["type"] != "pong":
            seen.append(msg)
    assert seen and all(m["type"] == "error" and m["code"] == "not_found" for m in seen), seen


def test_same_content_is_shared_underneath_but_never_shown(
    auth_server: ServerProcess, bob: httpx.Client, ana: httpx.Client, anas_song: dict[str, Any], short_mp3: Path
) -> None:
    r = upload(bob, short_mp3)
    assert r.status_code == 201, r.text  # bob's own copy, not ana's
    song = r.json()
    assert song["id"] != anas_song["id"] and song["stems"] == [] and song["job"] is None
    job = bob.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
    assert job["id"] != anas_song["job"]["id"] and job["song_id"] == song["id"]
    done = wait_job(bob, job["id"])
    assert done["state"] == "done"
    assert bob.get(f"/api/songs/{song['id']}/stems/vocals").status_code == 200
    assert bob.delete(f"/api/songs/{song['id']}").status_code == 204  # ana's copy of the bytes stays
    assert ana.get(f"/api/songs/{anas_song['id']}/stems/drums").status_code == 200
    assert ana.post(f"/api/songs/{anas_song['id']}/separations", json={"engine": "dsp"}).status_code == 200


def test_downloads_are_attachments_with_safe_names(ana: httpx.Client, anas_song: dict[str, Any]) -> None:
    assert "/" not in anas_song["original_filename"] and "\n" not in anas_song["original_filename"]
    for r in (
        ana.get(f"/api/songs/{anas_song['id']}/stems/vocals?format=flac"),
        ana.post(f"/api/songs/{anas_song['id']}/mixes", json={"gains": {"drums": None}}),
    ):
        assert r.status_code == 200, r.text
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert not any(ch in disposition for ch in "\r\n/\\") and disposition.count('"') == 2
        assert "filename*=UTF-8''" in disposition
        assert r.headers["x-content-type-options"] == "nosniff"
