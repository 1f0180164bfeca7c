"""Setlists against a real server: create, rename, reorder, delete, the set sheet, songs a user
cannot see, and 404 for another user's setlist like a made-up id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.accounts import login
from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.songfiles import salted_copy

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
def songs(ana: httpx.Client, short_mp3: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("setlist-songs")
    out = []
    for salt in (b"one", b"two", b"three"):
        r = upload(ana, salted_copy(short_mp3, folder, salt))
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def test_create_rename_reorder_and_delete(ana: httpx.Client, songs: list[dict[str, Any]]) -> None:
    a, b, c = (s["id"] for s in songs)
    r = ana.post("/api/setlists", json={"name": "Friday", "songs": [{"song_id": a, "notes": "capo 2"}, {"song_id": b}]})
    assert r.status_code == 201, r.text
    setlist = r.json()
    assert setlist["owned"] and setlist["bands"] == []
    assert [(e["song_id"], e["position"], e["notes"]) for e in setlist["songs"]] == [(a, 0, "capo 2"), (b, 1, "")]
    url = f"/api/setlists/{setlist['id']}"

    renamed = ana.patch(url, json={"name": "Friday gig"}).json()
    assert renamed["name"] == "Friday gig" and [e["song_id"] for e in renamed["songs"]] == [a, b]
    replaced = ana.patch(url, json={"songs": [{"song_id": b}, {"song_id": c, "notes": "end big"}, {"song_id": a}]})
    assert [e["song_id"] for e in replaced.json()["songs"]] == [b, c, a]

    ordered = ana.put(f"{url}/order", json={"song_ids": [a, b, c]})
    assert ordered.status_code == 200
    assert [(e["song_id"], e["notes"]) for e in ordered.json()["songs"]] == [(a, ""), (b, ""), (c, "end big")]
    assert [e["song_id"] for e in ana.get(url).json()["songs"]] == [a, b, c]  # kept

    for bad in ([a, b], [a, b, b], [a, b, c, c], [a, b, NOBODY]):
        r = ana.put(f"{url}/order", json={"song_ids": bad})
        assert r.status_code == 422 and "song_ids" in r.json()["error"]["message"], bad
    dup = ana.patch(url, json={"songs": [{"song_id": a}, {"song_id": a}]})
    assert dup.status_code == 422 and "songs.1.song_id" in dup.json()["error"]["message"]

    listed = {x["id"]: x for x in ana.get("/api/setlists").json()["setlists"]}
    assert listed[setlist["id"]]["song_count"] == 3 and listed[setlist["id"]]["name"] == "Friday gig"
    assert listed[setlist["id"]]["duration"] == pytest.approx(sum(s["duration"] for s in songs), abs=0.01)

    assert ana.delete(url).status_code == 204
    assert ana.get(url).status_code == 404
    assert setlist["id"] not in {x["id"] for x in ana.get("/api/setlists").json()["setlists"]}


def test_a_setlist_naming_songs_the_user_cannot_see_is_404_naming_nothing(
    ana: httpx.Client, bob: httpx.Client, songs: list[dict[str, Any]]
) -> None:
    theirs = bob.post("/api/setlists", json={"name": "mine", "songs": [{"song_id": songs[0]["id"]}]})
    made_up = bob.post("/api/setlists", json={"name": "mine", "songs": [{"song_id": NOBODY}]})
    assert theirs.status_code == made_up.status_code == 404
    assert theirs.json() == made_up.json() == {"error": {"code": "not_found", "message": "no such song"}}
    assert bob.get("/api/setlists").json()["setlists"] == []


def test_another_users_setlist_is_404_on_every_route_like_a_made_up_id(
    ana: httpx.Client, bob: httpx.Client, songs: list[dict[str, Any]]
) -> None:
    setlist = ana.post("/api/setlists", json={"name": "private", "songs": [{"song_id": songs[0]["id"]}]}).json()

    def probes(setlist_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            ("GET", f"/api/setlists/{setlist_id}", {}),
            ("PATCH", f"/api/setlists/{setlist_id}", {"json": {"name": "stolen"}}),
            ("PUT", f"/api/setlists/{setlist_id}/order", {"json": {"song_ids": [songs[0]["id"]]}}),
            ("GET", f"/api/setlists/{setlist_id}/sheet", {}),
            ("DELETE", f"/api/setlists/{setlist_id}", {}),
        ]

    for (method, url, kw), (_m, fake_url, _kw) in zip(probes(setlist["id"]), probes(NOBODY), strict=True):
        real, fake = bob.request(method, url, **kw), bob.request(method, fake_url, **kw)
        assert real.status_code == 404, (method, url, real.text)
        assert real.json() == fake.json()
    assert ana.get(f"/api/setlists/{setlist['id']}").json()["name"] == "private"


def test_the_set_sheet_has_title_key_tempo_duration_and_notes(ana: httpx.Client, songs: list[dict[str, Any]]) -> None:
    analysed, plain = songs[0], songs[1]
    job = ana.post(f"/api/songs/{analysed['id']}/separations", json={"engine": "dsp"}).json()
    assert wait_job(ana, job["id"], timeout=300)["state"] == "done"
    setlist = ana.post(
        "/api/setlists",
        json={"name": "Sheet", "songs": [{"song_id": analysed["id"], "notes": "start slow"}, {"song_id": plain["id"]}]},
    ).json()
    sheet = ana.get(f"/api/setlists/{setlist['id']}/sheet").json()
    assert sheet["title"] == "Sheet"
    first, second = sheet["songs"]
    assert (first["position"], first["title"], first["notes"]) == (1, analysed["name"], "start slow")
    assert first["duration"] == pytest.approx(analysed["duration"])
    analysis = ana.get(f"/api/songs/{analysed['id']}/analysis")  # made with the separation
    assert analysis.status_code == 200, analysis.text
    assert first["key"] == analysis.json()["key"] and first["key"] is not None
    assert first["tempo_bpm"] == analysis.json()["bpm"] and first["tempo_bpm"] is not None
    assert second["key"] is None and second["tempo_bpm"] is None  # never separated: no analysis yet
    assert sheet["total_duration"] == pytest.approx(analysed["duration"] + plain["duration"], abs=0.01)


def test_deleting_a_song_removes_it_from_setlists(ana: httpx.Client, short_mp3: Path, tmp_path: Path) -> None:
    doomed = upload(ana, salted_copy(short_mp3, tmp_path, b"doomed")).json()
    keep = upload(ana, salted_copy(short_mp3, tmp_path, b"keep")).json()
    setlist = ana.post(
        "/api/setlists", json={"name": "x", "songs": [{"song_id": doomed["id"]}, {"song_id": keep["id"]}]}
    )
    ana.put(f"/api/songs/{doomed['id']}/practice", json={"revision": 0, "state": {"notes": "gone soon"}})
    assert ana.delete(f"/api/songs/{doomed['id']}").status_code == 204
    after = ana.get(f"/api/setlists/{setlist.json()['id']}").json()
    assert [e["song_id"] for e in after["songs"]] == [keep["id"]]
    assert ana.get(f"/api/songs/{doomed['id']}/practice").status_code == 404
