"""Accounts for the server tests: add users with the real CLI, log in with real cookies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.harness import ServerProcess

PASSWORD = "correct horse battery staple"


def users_cli(srv: ServerProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riffroom.cli", "users", *args, "--data-dir", str(srv.data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        env=srv.env(),
        timeout=60,
    )


def add_user(srv: ServerProcess, name: str, password: str = PASSWORD) -> None:
    result = users_cli(srv, "add", name, stdin=password + "\n")
    assert result.returncode == 0, result.stderr


def login(srv: ServerProcess, name: str, password: str = PASSWORD, **kw: object) -> httpx.Client:
    client = srv.client(**kw)  # type: ignore[arg-type]
    r = client.post("/api/auth/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return client


def session_cookie(client: httpx.Client) -> str:
    return str(client.cookies.get("riffroom_session"))


def ws_headers(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": f"riffroom_session={session_cookie(client)}"}


def data_root(srv: ServerProcess) -> Path:
    return srv.data_dir
