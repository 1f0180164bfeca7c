"""Fixtures for the server tests: a real server per module, test songs per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.harness import ServerProcess, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(tmp_path_factory.mktemp("server"), workers=1, max_upload_bytes=8 * 1024 * 1024) as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that requires login, with users ana and bob (password accounts.PASSWORD)."""
    from tests.api.accounts import add_user

    root = tmp_path_factory.mktemp("auth-server")
    srv = ServerProcess(
        root,
        workers=1,
        auth="required",
        max_upload_bytes=8 * 1024 * 1024,
        login_max_failures=5,
        login_window_seconds=30,
        ws_access_recheck_seconds=0.5,
    )
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    add_user(srv, "ana")
    add_user(srv, "bob")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
