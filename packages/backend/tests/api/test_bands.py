"""The band room against a real server, with three and four accounts: membership, sharing songs
and setlists, a workspace of one's own on a shared song, 404 for outsiders on every route and the
WebSocket, removal taking effect at once, the `riffroom bands` CLI, and a restart keeping it all."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.accounts import add_user, login, users_cli, ws_headers
from tests.api.harness import ServerProcess, run_server, upload, wait_job
from tests.api.songfiles import salted_copy
from tests.api.wsclient import recv_json, ws_connect

NOBODY = "0123456789abcdef" * 2


def bands_cli(srv: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riffroom.cli", "bands", *args, "--data-dir", str(srv.data_dir)],
        capture_output=True,
        text=True,
        env=srv.env(),
        timeout=60,
    )


@pytest.fixture(scope="module")
def users(auth_server: ServerProcess) -> dict[str, httpx.Client]:
    add_user(auth_server, "carl")
    add_user(auth_server, "dave")
    return {name: login(auth_server, name) for name in ("ana", "bob", "carl", "dave")}


@pytest.fixture(scope="module")
def shared(users: dict[str, httpx.Client], short_mp3: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ana's band with bob and carl, and a separated song of ana's shared with it."""
    ana = users["ana"]
    song = upload(ana, salted_copy(short_mp3, tmp_path_factory.mktemp("band-song"), b"band")).json()
    job = ana.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
    assert wait_job(ana, job["id"], timeout=300)["state"] == "done"
    band = ana.post("/api/bands", json={"name": "The Riffs"})
    assert band.status_code == 201, band.text
    band_id = band.json()["id"]
    for name in ("bob", "carl"):
        assert ana.post(f"/api/bands/{band_id}/members", json={"username": name}).status_code == 200
    r = ana.post(f"/api/bands/{band_id}/songs", json={"song_id": song["id"]})
    assert r.status_code == 200 and r.json()["songs"] == [song["id"]]
    return {"band_id": band_id, "song": song, "job_id": job["id"]}


def test_members_see_the_shared_song_with_the_band_named(
    users: dict[str, httpx.Client], shared: dict[str, Any]
) -> None:
    song_id = shared["song"]["id"]
    for name in ("bob", "carl"):
        listed = {s["id"]: s for s in users[name].get("/api/songs").json()["songs"]}
        assert listed[song_id]["owned"] is False
        assert listed[song_id]["bands"] == [{"id": shared["band_id"], "name": "The Riffs"}]
    own = {s["id"]: s for s in users["ana"].get("/api/songs").json()["songs"]}
    assert own[song_id]["owned"] is True and own[song_id]["bands"][0]["name"] == "The Riffs"
    bands = users["bob"].get("/api/bands").json()["bands"]
    assert [(b["name"], b["owner"], b["role"]) for b in bands] == [("The Riffs", "ana", "member")]
    assert [m["username"] for m in bands[0]["members"]] == ["ana", "bob", "carl"]


def test_members_play_the_shared_separation_with_a_workspace_of_their_own(
    users: dict[str, httpx.Client], shared: dict[str, Any]
) -> None:
    ana, bob = users["ana"], users["bob"]
    song_id = shared["song"]["id"]
    stem = bob.get(f"/api/songs/{song_id}/stems/vocals")
    assert stem.status_code == 200 and stem.content == ana.get(f"/api/songs/{song_id}/stems/vocals").content
    assert bob.get(f"/api/songs/{song_id}/peaks", params={"stem": "drums", "points": 64}).status_code == 200
    assert bob.get(f"/api/jobs/{shared['job_id']}").json()["state"] == "done"
    assert bob.get(f"/api/songs/{song_id}/analysis").json() == ana.get(f"/api/songs/{song_id}/analysis").json()
    url = f"/api/songs/{song_id}/practice"
    anas = ana.put(
        url,
        json={
            "revision": ana.get(url).json()["revision"],
            "state": {
                "loops": [{"id": "a1", "name": "intro", "start": 0, "end": 1}],
                "stems": {"vocals": {"muted": True}},
            },
        },
    )
    assert anas.status_code == 200
    assert bob.get(url).json()["revision"] == 0  # my mix is not yours
    bobs = bob.put(url, json={"revision": 0, "state": {"stems": {"drums": {"volume_db": -12}}, "tempo": 0.75}})
    assert bobs.status_code == 200
    a, b = ana.get(url).json()["state"], bob.get(url).json()["state"]
    assert a["loops"][0]["name"] == "intro" and b["loops"] == []
    assert a["stems"] == {"vocals": {"volume_db": 0.0, "muted": True, "solo": False, "pan": 0.0}}
    assert b["tempo"] == 0.75 and "vocals" not in b["stems"]


def test_only_the_owner_changes_a_shared_song(users: dict[str, httpx.Client], shared: dict[str, Any]) -> None:
    bob, song_id = users["bob"], shared["song"]["id"]
    changes: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/api/songs/{song_id}", {"json": {"name": "bob's now"}}),
        ("DELETE", f"/api/songs/{song_id}", {}),
        ("POST", f"/api/jobs/{shared['job_id']}/cancel", {}),
        ("PUT", f"/api/songs/{song_id}/analysis/corrections", {"json": {"tempo_factor": 2}}),
    ]
    for method, url, kw in changes:
        r = bob.request(method, url, **kw)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (method, url, r.text)
    r = bob.post(f"/api/bands/{shared['band_id']}/members", json={"username": "dave"})
    assert r.status_code == 403
    theirs = bob.post(f"/api/bands/{shared['band_id']}/songs", json={"song_id": NOBODY})
    assert theirs.status_code == 404
    assert users["ana"].get(f"/api/songs/{song_id}").json()["name"] == shared["song"]["name"]


def _song_probes(song_id: str, job_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/api/songs/{song_id}", {}),
        ("GET", f"/api/songs/{song_id}/stems/vocals", {}),
        ("GET", f"/api/songs/{song_id}/peaks?stem=vocals", {}),
        ("POST", f"/api/songs/{song_id}/mixes", {"json": {"gains": {}}}),
        ("GET", f"/api/songs/{song_id}/practice", {}),
        ("PUT", f"/api/songs/{song_id}/practice", {"json": {"revision": 0, "state": {}}}),
        ("GET", f"/api/songs/{song_id}/practice/log", {}),
        ("GET", f"/api/songs/{song_id}/analysis", {}),
        ("GET", f"/api/jobs/{job_id}", {}),
    ]


def _band_probes(band_id: str, song_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/api/bands/{band_id}", {}),
        ("DELETE", f"/api/bands/{band_id}", {}),
        ("POST", f"/api/bands/{band_id}/members", {"json": {"username": "dave"}}),
        ("DELETE", f"/api/bands/{band_id}/members/bob", {}),
        ("POST", f"/api/bands/{band_id}/songs", {"json": {"song_id": song_id}}),
        ("DELETE", f"/api/bands/{band_id}/songs/{song_id}", {}),
        ("POST", f"/api/bands/{band_id}/setlists", {"json": {"setlist_id": NOBODY}}),
        ("DELETE", f"/api/bands/{band_id}/setlists/{NOBODY}", {}),
    ]


def _assert_like_made_up(client: httpx.Client, real: list[Any], fake: list[Any]) -> None:
    for (method, url, kw), (_m, fake_url, _kw) in zip(real, fake, strict=True):
        r, made_up = client.request(method, url, **kw), client.request(method, fake_url, **kw)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert r.json() == made_up.json(), (method, url)


def test_an_outsider_gets_404_for_every_id_of_the_band(
    auth_server: ServerProcess, users: dict[str, httpx.Client], shared: dict[str, Any]
) -> None:
    dave, song_id = users["dave"], shared["song"]["id"]
    _assert_like_made_up(dave, _song_probes(song_id, shared["job_id"]), _song_probes(NOBODY, NOBODY))
    _assert_like_made_up(dave, _band_probes(shared["band_id"], song_id), _band_probes(NOBODY, song_id))
    assert song_id not in {s["id"] for s in dave.get("/api/songs").json()["songs"]}
    assert dave.get("/api/bands").json()["bands"] == []
    with ws_connect(auth_server.ws_url, additional_headers=ws_headers(dave)) as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": [shared["job_id"]]}))
        reply = recv_json(ws)
        assert reply["type"] == "error" and reply["code"] == "not_found" and reply["job_id"] == shared["job_id"]
    band = users["ana"].get(f"/api/bands/{shared['band_id']}").json()
    assert [m["username"] for m in band["members"]] == ["ana", "bob", "carl"]  # untouched by dave's attempts


def test_a_shared_setlist_is_read_by_members_and_brings_its_songs(
    users: dict[str, httpx.Client], shared: dict[str, Any], short_mp3: Path, tmp_path: Path
) -> None:
    ana, carl = users["ana"], users["carl"]
    extra = upload(ana, salted_copy(short_mp3, tmp_path, b"extra")).json()
    setlist = ana.post(
        "/api/setlists", json={"name": "Gig", "songs": [{"song_id": shared["song"]["id"]}, {"song_id": extra["id"]}]}
    ).json()
    r = ana.post(f"/api/bands/{shared['band_id']}/setlists", json={"setlist_id": setlist["id"]})
    assert r.status_code == 200 and setlist["id"] in r.json()["setlists"] and extra["id"] in r.json()["songs"]
    listed = {x["id"]: x for x in carl.get("/api/setlists").json()["setlists"]}
    assert listed[setlist["id"]]["owned"] is False and listed[setlist["id"]]["bands"][0]["name"] == "The Riffs"
    seen = carl.get(f"/api/setlists/{setlist['id']}").json()
    assert [e["song_id"] for e in seen["songs"]] == [shared["song"]["id"], extra["id"]]
    assert carl.get(f"/api/setlists/{setlist['id']}/sheet").status_code == 200
    assert carl.patch(f"/api/setlists/{setlist['id']}", json={"name": "mine"}).status_code == 403
    assert users["dave"].get(f"/api/setlists/{setlist['id']}").status_code == 404
    assert ana.delete(f"/api/bands/{shared['band_id']}/setlists/{setlist['id']}").status_code == 204
    assert carl.get(f"/api/setlists/{setlist['id']}").status_code == 404


def test_a_removed_member_loses_access_at_once_over_http_and_the_websocket(
    auth_server: ServerProcess, users: dict[str, httpx.Client], shared: dict[str, Any]
) -> None:
    ana, carl = users["ana"], users["carl"]
    song_id, job_id = shared["song"]["id"], shared["job_id"]
    with ws_connect(auth_server.ws_url, additional_headers=ws_headers(carl)) as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": [job_id]}))
        assert recv_json(ws)["type"] == "snapshot"
        assert ana.delete(f"/api/bands/{shared['band_id']}/members/carl").status_code == 204
        dropped = recv_json(ws, timeout=10)
        assert (dropped["type"], dropped["code"], dropped["job_id"]) == ("error", "not_found", job_id)
        ws.send(json.dumps({"type": "subscribe", "jobs": [job_id]}))
        again = recv_json(ws)
        assert again["type"] == "error" and again["code"] == "not_found"
    _assert_like_made_up(carl, _song_probes(song_id, job_id), _song_probes(NOBODY, NOBODY))
    assert carl.get("/api/bands").json()["bands"] == []
    assert users["bob"].get(f"/api/songs/{song_id}").status_code == 200  # the others keep it
    assert ana.post(f"/api/bands/{shared['band_id']}/members", json={"username": "carl"}).status_code == 200


def test_unsharing_ends_access_and_keeps_the_members_workspace(
    users: dict[str, httpx.Client], shared: dict[str, Any]
) -> None:
    ana, bob = users["ana"], users["bob"]
    song_id, band_id = shared["song"]["id"], shared["band_id"]
    bob.put(
        f"/api/songs/{song_id}/practice",
        json={"revision": bob.get(f"/api/songs/{song_id}/practice").json()["revision"], "state": {"notes": "bob's"}},
    )
    assert ana.delete(f"/api/bands/{band_id}/songs/{song_id}").status_code == 204
    assert bob.get(f"/api/songs/{song_id}").status_code == 404
    assert ana.get(f"/api/songs/{song_id}").status_code == 200
    assert ana.post(f"/api/bands/{band_id}/songs", json={"song_id": song_id}).status_code == 200
    assert bob.get(f"/api/songs/{song_id}/practice").json()["state"]["notes"] == "bob's"  # back with the share


def test_the_bands_cli_creates_adds_lists_removes_and_users_remove_ends_memberships(
    auth_server: ServerProcess, users: dict[str, httpx.Client]
) -> None:
    made = bands_cli(auth_server, "create", "Cli Band", "--owner", "bob")
    assert made.returncode == 0, made.stderr
    band_id = made.stdout.strip()
    assert bands_cli(auth_server, "add", "Cli Band", "dave").returncode == 0
    assert bands_cli(auth_server, "add", "Cli Band", "nobody").returncode == 1
    listed = [json.loads(line) for line in bands_cli(auth_server, "list", "dave", "--json").stdout.splitlines()]
    assert [(b["id"], [m["username"] for m in b["members"]]) for b in listed] == [(band_id, ["bob", "dave"])]
    assert users["dave"].get(f"/api/bands/{band_id}").status_code == 200
    assert bands_cli(auth_server, "remove", band_id, "dave").returncode == 0
    assert users["dave"].get(f"/api/bands/{band_id}").status_code == 404
    assert bands_cli(auth_server, "add", band_id, "dave").returncode == 0
    daves = users["dave"].post("/api/setlists", json={"name": "dave's"}).json()
    assert users_cli(auth_server, "remove", "dave").returncode == 0
    with closing(sqlite3.connect(auth_server.data_dir / "riffroom.db")) as db:  # the account's data went with it
        assert db.execute("SELECT count(*) FROM setlists WHERE id = ?", (daves["id"],)).fetchone() == (0,)
    members = users["bob"].get(f"/api/bands/{band_id}").json()["members"]
    assert [m["username"] for m in members] == ["bob"]


def test_bands_need_accounts(server: ServerProcess) -> None:
    with server.client() as local:
        r = local.post("/api/bands", json={"name": "solo"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "accounts_required"


def test_a_restart_keeps_workspaces_logs_setlists_and_bands(tmp_path: Path, short_mp3: Path) -> None:
    with run_server(tmp_path, workers=1, auth="required") as srv:
        add_user(srv, "ana")
        add_user(srv, "bob")
        with closing(login(srv, "ana")) as ana:
            song = upload(ana, short_mp3).json()
            ana.put(f"/api/songs/{song['id']}/practice", json={"revision": 0, "state": {"notes": "kept", "tempo": 0.9}})
            ana.post(
                f"/api/songs/{song['id']}/practice/log",
                json={"sessions": [{"started_at": time.time() - 60, "seconds": 120, "tempo": 0.9}]},
            )
            setlist = ana.post("/api/setlists", json={"name": "Set", "songs": [{"song_id": song["id"]}]}).json()
            band = ana.post("/api/bands", json={"name": "Keepers"}).json()
            ana.post(f"/api/bands/{band['id']}/members", json={"username": "bob"})
            ana.post(f"/api/bands/{band['id']}/songs", json={"song_id": song["id"]})
        srv.stop()
        srv.start()
        with closing(login(srv, "ana")) as ana, closing(login(srv, "bob")) as bob:
            practice = ana.get(f"/api/songs/{song['id']}/practice").json()
            assert practice["revision"] == 1 and practice["state"]["notes"] == "kept"
            assert ana.get(f"/api/songs/{song['id']}/practice/log").json()["week_seconds"] == 120
            assert [e["song_id"] for e in ana.get(f"/api/setlists/{setlist['id']}").json()["songs"]] == [song["id"]]
            assert bob.get(f"/api/songs/{song['id']}").json()["bands"] == [{"id": band["id"], "name": "Keepers"}]
