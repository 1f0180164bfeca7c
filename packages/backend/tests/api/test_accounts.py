"""Accounts against a real server: login, cookie, logout, brute force, CSRF, API tokens, users CLI."""

from __future__ import annotations

import hashlib
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.api.accounts import PASSWORD, add_user, login, session_cookie, users_cli, ws_headers
from tests.api.harness import ServerProcess, free_port, run_server, upload, wait_job, wait_until
from tests.api.wsclient import recv_json, ws_connect

EVIL = "http://evil.example"


def test_every_api_route_needs_login(auth_server: ServerProcess) -> None:
    with auth_server.client() as c:
        assert c.get("/api/songs").status_code == 401
        assert c.get("/api/songs/" + "0" * 32).status_code == 401
        assert c.get("/api/jobs/" + "0" * 32).status_code == 401
        assert c.get("/api/auth/me").json() == {"auth_required": True, "user": None}
        assert c.get("/health/live").status_code == 200
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(auth_server.ws_url).close()
    assert refused.value.response.status_code == 403


def test_login_sets_a_hardened_cookie_stored_only_hashed(auth_server: ServerProcess) -> None:
    with auth_server.client() as c:
        r = c.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
        assert r.status_code == 200 and r.json()["user"]["username"] == "ana"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain HTTP on loopback; HTTPS (or a trusted proxy) adds it
        token = session_cookie(c)
        assert c.get("/api/songs").status_code == 200
        assert c.get("/api/auth/me").json()["user"]["username"] == "ana"
    with sqlite3.connect(auth_server.data_dir / "riffroom.db") as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM auth_sessions")]
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM users")]
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    assert all(h.startswith("$argon2id$") for h in hashes) and PASSWORD not in "".join(hashes)


def test_unknown_user_and_wrong_password_look_alike(auth_server: ServerProcess) -> None:
    def attempt(name: str) -> tuple[float, int, dict]:
        with auth_server.client() as c:
            started = time.perf_counter()
            r = c.post("/api/auth/login", json={"username": name, "password": "wrong password"})
            return time.perf_counter() - started, r.status_code, r.json()

    attempt("ana"), attempt("nobody-at-all")  # warm both paths
    known = [attempt("ana") for _ in range(3)]
    unknown = [attempt("nobody-at-all") for _ in range(3)]
    assert {k[1] for k in known + unknown} == {401}
    assert known[0][2] == unknown[0][2]
    ratio = statistics.median(t for t, *_ in known) / statistics.median(t for t, *_ in unknown)
    assert 1 / 3 < ratio < 3, f"a wrong password took {ratio:.2f}x as long as an unknown user"


def test_brute_force_gets_429_with_retry_after(auth_server: ServerProcess) -> None:
    add_user(auth_server, "eve")
    with auth_server.client() as c:
        codes = [
            c.post("/api/auth/login", json={"username": "eve", "password": f"guess {i}"}).status_code for i in range(5)
        ]
        assert codes == [401] * 5
        r = c.post("/api/auth/login", json={"username": "eve", "password": PASSWORD})  # even the right one
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        assert r.json()["error"]["code"] == "too_many_requests"
    login(auth_server, "ana").close()  # another account is not locked out by eve's attacker


def test_logout_revokes_the_session_and_closes_its_websockets(auth_server: ServerProcess) -> None:
    client = login(auth_server, "ana")
    token = session_cookie(client)
    ws = ws_connect(auth_server.ws_url, additional_headers=ws_headers(client))
    ws.send('{"type": "subscribe", "jobs": []}')
    assert client.post("/api/auth/logout").status_code == 204
    with pytest.raises(ConnectionClosed):
        recv_json(ws, timeout=5)
    ws.close()
    with auth_server.client(cookies={"riffroom_session": token}) as stale:
        assert stale.get("/api/songs").status_code == 401
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(auth_server.ws_url, additional_headers={"Cookie": f"riffroom_session={token}"}).close()
    assert refused.value.response.status_code == 403
    client.close()


def _closed_with(ws, timeout: float) -> int | None:  # type: ignore[no-untyped-def]
    """The close code the server sends within `timeout` (pings answered meanwhile), or None if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            recv_json(ws, timeout=max(0.1, deadline - time.monotonic()))
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    return None


@pytest.mark.parametrize("how", ["remove the user", "change the password"])
def test_sockets_close_when_the_login_ends_outside_this_server(auth_server: ServerProcess, how: str) -> None:
    """The users CLI (another process) ends logins; open sockets close within the recheck interval."""
    name = "gil" if how == "remove the user" else "hal"
    add_user(auth_server, name)
    client = login(auth_server, name)
    ws = ws_connect(auth_server.ws_url, additional_headers=ws_headers(client))
    ws.send('{"type": "subscribe", "jobs": []}')
    bystander = login(auth_server, "bob")
    other = ws_connect(auth_server.ws_url, additional_headers=ws_headers(bystander))
    other.send('{"type": "subscribe", "jobs": []}')
    assert _closed_with(ws, timeout=1.0) is None  # nothing happens while the login is valid
    if how == "remove the user":
        assert users_cli(auth_server, "remove", name).returncode == 0
    else:
        assert users_cli(auth_server, "passwd", name, stdin="another long passphrase\n").returncode == 0
    assert _closed_with(ws, timeout=10.0) == 4401
    assert _closed_with(other, timeout=1.0) is None  # bob's socket is untouched
    for conn in (ws, other):
        conn.close()
    client.close()
    bystander.close()


def test_foreign_origin_is_refused_on_writes_and_websockets(auth_server: ServerProcess, short_mp3: Path) -> None:
    with auth_server.client(headers={"Origin": EVIL}) as c:
        r = c.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    with closing(login(auth_server, "ana")) as c:
        with open(short_mp3, "rb") as fh:
            r = c.post("/api/songs", files={"file": ("a.mp3", fh)}, headers={"Origin": EVIL})
        assert r.status_code == 403
        assert c.post("/api/auth/logout", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert c.get("/api/songs", headers={"Origin": EVIL}).status_code == 200  # reads change nothing
        same = c.post("/api/auth/tokens", json={"name": "x"}, headers={"Origin": auth_server.base_url})
        assert same.status_code == 201
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(auth_server.ws_url, origin=EVIL, additional_headers=ws_headers(c)).close()
        assert refused.value.response.status_code == 403
        with ws_connect(auth_server.ws_url, origin=auth_server.base_url, additional_headers=ws_headers(c)) as ws:
            ws.send('{"type": "subscribe", "jobs": ["' + "0" * 32 + '"]}')
            assert recv_json(ws)["code"] == "not_found"


def test_api_tokens_work_as_bearer_and_are_stored_hashed(auth_server: ServerProcess) -> None:
    with closing(login(auth_server, "bob")) as c:
        made = c.post("/api/auth/tokens", json={"name": "script"}).json()
        token = made["token"]
        assert token.startswith("rr_")
        listed = c.get("/api/auth/tokens").json()["tokens"]
        assert [t["name"] for t in listed if t["id"] == made["id"]] == ["script"]
        assert all(t.get("token") is None for t in listed)
        with auth_server.client(headers={"Authorization": f"Bearer {token}"}) as script:
            assert script.get("/api/songs").status_code == 200
            assert script.get("/api/auth/me").json()["user"]["username"] == "bob"
            with ws_connect(auth_server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                ws.send('{"type": "ping"}')
                assert recv_json(ws)["type"] == "pong"
            assert c.delete(f"/api/auth/tokens/{made['id']}").status_code == 204
            assert script.get("/api/songs").status_code == 401
    with auth_server.client(headers={"Authorization": "Bearer rr_made-up"}) as forged:
        assert forged.get("/api/songs").status_code == 401


def test_users_cli_passwd_logs_out_and_remove_deletes(auth_server: ServerProcess) -> None:
    add_user(auth_server, "dan")
    old = login(auth_server, "dan")
    assert users_cli(auth_server, "passwd", "dan", stdin="a brand new passphrase\n").returncode == 0
    assert old.get("/api/songs").status_code == 401
    login(auth_server, "dan", "a brand new passphrase").close()
    assert "dan" in users_cli(auth_server, "list").stdout.split()
    short = users_cli(auth_server, "add", "fay", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert users_cli(auth_server, "add", "dan", stdin=PASSWORD + "\n").returncode == 1  # exists
    assert users_cli(auth_server, "remove", "dan").returncode == 0
    assert "dan" not in users_cli(auth_server, "list").stdout.split()
    with auth_server.client() as c:
        assert (
            c.post("/api/auth/login", json={"username": "dan", "password": "a brand new passphrase"}).status_code == 401
        )


def test_local_server_needs_no_login(server: ServerProcess) -> None:
    with server.client() as c:
        assert c.get("/api/auth/me").json() == {"auth_required": False, "user": None}
        assert c.get("/api/songs").status_code == 200


def test_refuses_to_listen_beyond_loopback_without_an_account(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "riffroom.cli",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    result = subprocess.run(cmd, env=srv.env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "riffroom users add NAME" in result.stderr


def test_a_worker_setting_naming_no_choice_is_refused_at_start(tmp_path: Path) -> None:
    """Said once at start, not at every worker the supervisor would try to start."""
    srv = ServerProcess(tmp_path)
    cmd = [sys.executable, "-m", "riffroom.cli", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d")]
    for name, value, choices in [
        ("RIFFROOM_ALLOCATOR", "tcmalloc", "jemalloc, system"),
        ("RIFFROOM_MKL_DISPATCH", "intel", "cpu-features, vendor"),
    ]:
        result = subprocess.run(cmd, env={**srv.env(), name: value}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"riffroom: {name}={value!r}; choose one of {choices}" in result.stderr


def test_songs_from_before_accounts_can_be_adopted(tmp_path: Path, short_mp3: Path) -> None:
    """A server used without accounts, then given one: `users adopt` hands the old songs over."""
    with run_server(tmp_path / "srv", workers=1) as srv:
        with srv.client() as c:
            song = upload(c, short_mp3).json()
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            assert wait_job(c, job["id"])["state"] == "done"
        added = users_cli(srv, "add", "alice", stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        assert "1 songs uploaded before accounts existed are now hidden" in added.stderr
        assert "riffroom users adopt alice" in added.stderr
        with srv.client() as anonymous:  # the running server notices the new account within 2 s
            wait_until(lambda: anonymous.get("/api/auth/me").json()["auth_required"], timeout=10)
        with closing(login(srv, "alice")) as alice:
            assert alice.get("/api/songs").json()["songs"] == []
            adopted = users_cli(srv, "adopt", "alice")
            assert adopted.returncode == 0 and "1 songs are now alice's" in adopted.stderr
            assert [s["id"] for s in alice.get("/api/songs").json()["songs"]] == [song["id"]]
            # the separation came along: stems stream, and asking again does not separate anew
            assert alice.get(f"/api/songs/{song['id']}/stems/vocals").status_code == 200
            again = alice.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
            assert again.status_code == 200 and again.json()["id"] == job["id"]
        assert users_cli(srv, "adopt", "nobody").returncode == 1
