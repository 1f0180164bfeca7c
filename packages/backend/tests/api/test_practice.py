"""A song's practice workspace and practice log against a real server: save and restore, the
revision conflict and its merge, concurrent saves, validation, the log's sums, and isolation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.accounts import login
from tests.api.harness import ServerProcess, upload
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
def song(ana: httpx.Client, short_mp3: Path) -> dict[str, Any]:
    r = upload(ana, short_mp3)
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def _state(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stems": {"guitar": {"volume_db": -6.0, "muted": True, "solo": False, "pan": -0.5}},
        "master_db": -3.0,
        "tempo": 0.8,
        "transpose": -2,
        "capo": 3,
        "click": {"enabled": True, "volume_db": -10.0, "pan": 0.2, "sound": "beep", "count_in_bars": 2},
        "loops": [
            {"id": "l1", "name": "intro", "start": 0.0, "end": 1.5},
            {
                "id": "l2",
                "name": "solo",
                "start": 1.0,
                "end": 2.5,
                "speed_trainer": {"start_pct": 70, "step_pct": 5, "every_passes": 2, "stop_pct": 100},
            },
        ],
        "active_loop_id": "l2",
        "markers": [{"id": "m1", "time": 0.5, "label": "verse"}],
        "my_part": "guitar",
        "notes": "watch the bend in bar 3",
    }
    return {**base, **changes}


def test_a_new_song_has_revision_zero_and_defaults(ana: httpx.Client, short_mp3: Path, tmp_path: Path) -> None:
    fresh = upload(ana, salted_copy(short_mp3, tmp_path, b"fresh")).json()
    r = ana.get(f"/api/songs/{fresh['id']}/practice")
    assert r.status_code == 200
    body = r.json()
    assert body["revision"] == 0
    assert body["state"]["tempo"] == 1.0 and body["state"]["loops"] == [] and body["state"]["my_part"] is None


def test_save_and_restore_round_trip(ana: httpx.Client, song: dict[str, Any]) -> None:
    url = f"/api/songs/{song['id']}/practice"
    current = ana.get(url).json()["revision"]
    r = ana.put(url, json={"revision": current, "state": _state()})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == current + 1
    restored = ana.get(url).json()  # what another device gets when it opens the song
    assert restored["revision"] == current + 1
    state = restored["state"]
    assert state["stems"]["guitar"] == {"volume_db": -6.0, "muted": True, "solo": False, "pan": -0.5}
    assert [loop["name"] for loop in state["loops"]] == ["intro", "solo"]
    assert state["loops"][1]["speed_trainer"] == {"start_pct": 70, "step_pct": 5, "every_passes": 2, "stop_pct": 100}
    assert state["click"]["count_in_bars"] == 2 and state["click"]["count_in_every_pass"] is False
    assert (state["tempo"], state["transpose"], state["capo"], state["my_part"]) == (0.8, -2, 3, "guitar")
    assert state["markers"] == [{"id": "m1", "time": 0.5, "label": "verse"}]
    assert state["notes"] == "watch the bend in bar 3"


def test_a_stale_revision_gets_409_with_the_current_state_and_the_client_merges(
    ana: httpx.Client, song: dict[str, Any]
) -> None:
    url = f"/api/songs/{song['id']}/practice"
    base = ana.get(url).json()
    # The laptop and the tablet both opened revision n; the laptop saves first.
    laptop = {**base["state"], "tempo": 0.9}
    r = ana.put(url, json={"revision": base["revision"], "state": laptop})
    assert r.status_code == 200
    tablet = {**base["state"], "notes": "from the tablet"}
    stale = ana.put(url, json={"revision": base["revision"], "state": tablet})
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"]["code"] == "stale_revision" and "merge" in body["error"]["message"]
    assert body["revision"] == base["revision"] + 1 and body["state"]["tempo"] == 0.9
    # The tablet puts its last change onto what the server has and saves again: nothing is lost.
    merged = {**body["state"], "notes": tablet["notes"]}
    again = ana.put(url, json={"revision": body["revision"], "state": merged})
    assert again.status_code == 200 and again.json()["revision"] == base["revision"] + 2
    final = ana.get(url).json()["state"]
    assert final["tempo"] == 0.9 and final["notes"] == "from the tablet"


def test_concurrent_saves_of_one_revision_have_exactly_one_winner(
    auth_server: ServerProcess, ana: httpx.Client, short_mp3: Path, tmp_path: Path
) -> None:
    fresh = upload(ana, salted_copy(short_mp3, tmp_path, b"race")).json()
    url = f"/api/songs/{fresh['id']}/practice"
    clients = [auth_server.client(cookies=ana.cookies) for _ in range(6)]
    try:
        for _round in range(4):  # the first save (no row yet) and three updates of one row
            revision = ana.get(url).json()["revision"]
            barrier = threading.Barrier(len(clients))
            codes: list[int] = []

            def save(
                client: httpx.Client,
                i: int,
                revision: int = revision,
                barrier: threading.Barrier = barrier,
                codes: list[int] = codes,
            ) -> None:
                barrier.wait()
                r = client.put(url, json={"revision": revision, "state": _state(notes=f"writer {i}")})
                codes.append(r.status_code)

            threads = [threading.Thread(target=save, args=(c, i)) for i, c in enumerate(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(codes) == [200] + [409] * (len(clients) - 1), codes
            assert ana.get(url).json()["revision"] == revision + 1
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tempo": 2.0}, "state.tempo"),
        ({"transpose": 13}, "state.transpose"),
        ({"capo": 12}, "state.capo"),
        ({"stems": {"kazoo": {"volume_db": 0}}}, "state.stems"),
        ({"stems": {"drums": {"volume_db": 40}}}, "state.stems.drums.volume_db"),
        ({"click": {"count_in_bars": 3}}, "state.click.count_in_bars"),
        ({"my_part": "click"}, "state.my_part"),
        ({"colour": "red"}, "state.colour"),
        ({"loops": [{"id": "x", "name": "a", "start": 2.0, "end": 1.0}]}, "state.loops.0"),
        ({"loops": [{"id": "x", "start": 0.0, "end": 9999.0}]}, "state.loops.0.end"),
        ({"markers": [{"id": "m", "time": 9999.0}]}, "state.markers.0.time"),
        ({"notes": "x" * 10_001}, "state.notes"),
        (
            {
                "loops": [
                    {
                        "id": "x",
                        "start": 0,
                        "end": 1,
                        "speed_trainer": {"start_pct": 90, "step_pct": 5, "every_passes": 1, "stop_pct": 80},
                    }
                ]
            },
            "state.loops.0.speed_trainer",
        ),
    ],
)
def test_bad_workspace_values_get_400_naming_the_field(
    ana: httpx.Client, song: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    url = f"/api/songs/{song['id']}/practice"
    before = ana.get(url).json()
    if "loops" in change:
        change = {**change, "active_loop_id": None}
    r = ana.put(url, json={"revision": before["revision"], "state": {**_state(), **change}})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_request"
    assert field in r.json()["error"]["message"], r.json()
    assert ana.get(url).json() == before  # nothing half-saved


def test_a_workspace_over_the_size_cap_gets_413(ana: httpx.Client, song: dict[str, Any]) -> None:
    url = f"/api/songs/{song['id']}/practice"
    padded = b'{"revision": 0, "state": {}}' + b" " * (65 * 1024)
    r = ana.put(url, content=padded, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"revision": 0, "state": {"notes": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}}'

    r = ana.put(url, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_practice_log_sums_per_day_loop_and_week(ana: httpx.Client, short_mp3: Path, tmp_path: Path) -> None:
    fresh = upload(ana, salted_copy(short_mp3, tmp_path, b"log")).json()
    base = f"/api/songs/{fresh['id']}/practice"
    ana.put(base, json={"revision": 0, "state": {"loops": [{"id": "br", "name": "bridge", "start": 0, "end": 1}]}})
    now = time.time()
    sessions = [
        {"id": "c1", "started_at": now - 120, "seconds": 600, "loop_id": "br", "tempo": 0.7},
        {"id": "c2", "started_at": now - 60, "seconds": 300, "loop_id": "br", "tempo": 0.95},
        {"id": "c3", "started_at": now - 86400, "seconds": 1200, "tempo": 1.0},
        {"id": "c4", "started_at": now - 10 * 86400, "seconds": 600, "tempo": 1.0},
    ]
    r = ana.post(f"{base}/log", json={"sessions": sessions})
    assert r.status_code == 201 and r.json() == {"added": 4}
    resent = ana.post(f"{base}/log", json={"sessions": sessions[:2]})  # back online: sent again
    assert resent.json() == {"added": 0}
    week = ana.get(f"{base}/log", params={"days": 7}).json()
    assert week["week_seconds"] == 2100 and week["total_seconds"] == 2100
    assert len(week["days"]) == 7 and sum(d["seconds"] for d in week["days"]) == 2100
    assert week["loops"] == [
        {"loop_id": "br", "name": "bridge", "seconds": 900, "first_tempo": 0.7, "best_tempo": 0.95}
    ]
    month = ana.get(f"{base}/log", params={"days": 30}).json()
    assert month["total_seconds"] == 2700 and month["week_seconds"] == 2100 and len(month["days"]) == 30


@pytest.mark.parametrize(
    "session",
    [
        {"started_at": 1.0e9, "seconds": -5, "tempo": 1.0},
        {"started_at": 1.0e9, "seconds": 7200, "tempo": 1.0},
        {"started_at": 1.0e9, "seconds": 60, "tempo": 3.0},
        {"started_at": 1.0, "seconds": 60, "tempo": 1.0},
    ],
)
def test_practice_log_refuses_absurd_sessions(ana: httpx.Client, song: dict[str, Any], session: dict[str, Any]) -> None:
    if session["started_at"] == 1.0e9:
        session = {**session, "started_at": time.time() - 60}
    r = ana.post(f"/api/songs/{song['id']}/practice/log", json={"sessions": [session]})
    assert r.status_code == 422 and "sessions.0" in r.json()["error"]["message"], r.text


def test_practice_log_caps_sessions_per_request(ana: httpx.Client, song: dict[str, Any]) -> None:
    one = {"started_at": time.time() - 60, "seconds": 1, "tempo": 1.0}
    r = ana.post(f"/api/songs/{song['id']}/practice/log", json={"sessions": [one] * 101})
    assert r.status_code == 422 and "sessions" in r.json()["error"]["message"]


def test_outsiders_get_404_on_every_practice_route_like_a_made_up_id(
    ana: httpx.Client, bob: httpx.Client, song: dict[str, Any]
) -> None:
    ana_before = ana.get(f"/api/songs/{song['id']}/practice").json()
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/practice", {}),
        ("PUT", "/practice", {"json": {"revision": 0, "state": {}}}),
        ("GET", "/practice/log", {}),
        ("POST", "/practice/log", {"json": {"sessions": [{"started_at": time.time(), "seconds": 5, "tempo": 1}]}}),
    ]
    for method, suffix, kw in probes:
        real = bob.request(method, f"/api/songs/{song['id']}{suffix}", **kw)
        fake = bob.request(method, f"/api/songs/{NOBODY}{suffix}", **kw)
        assert real.status_code == 404, (method, suffix, real.text)
        assert real.json() == fake.json()
    assert ana.get(f"/api/songs/{song['id']}/practice").json() == ana_before
